// One sender per outbox kind, in the style of MQTT.js's `handlers/`: the dispatcher looks the row's
// kind up here and knows nothing of any request's shape.

import type { OutboxKind } from "../../store/outbox-repo.js";
import { sendAlertAdd } from "./alert-add.js";
import { sendAlertUpdate } from "./alert-update.js";
import type { Sender } from "./context.js";
import { sendNotify } from "./notify.js";
import { sendWebhook } from "./webhook.js";
import { sendWorkOrderComplete } from "./work-order-complete.js";
import { sendWorkOrderCreate } from "./work-order-create.js";

export const SENDERS: Readonly<Record<OutboxKind, Sender>> = {
  "alert.add": sendAlertAdd,
  "alert.update": sendAlertUpdate,
  "workorder.create": sendWorkOrderCreate,
  "workorder.complete": sendWorkOrderComplete,
  webhook: sendWebhook,
  notify: sendNotify,
};
