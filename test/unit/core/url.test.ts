// Request URLs from the configured base URL: a base with a path prefix keeps it for every request.

import assert from "node:assert/strict";
import { test } from "node:test";
import { endpoint } from "../../../src/core/url.js";

test("endpoint keeps a base path prefix", () => {
  assert.equal(endpoint("https://iot.example.com/", "/alert/add").href, "https://iot.example.com/alert/add");
  assert.equal(
    endpoint("https://iot.example.com/api/v2/", "/alert/add").href,
    "https://iot.example.com/api/v2/alert/add",
  );
});

test("endpoint drops the base's query and tolerates a base without a trailing slash", () => {
  assert.equal(endpoint("https://iot.example.com/api?x=1", "/alert/add").href, "https://iot.example.com/api/alert/add");
});
