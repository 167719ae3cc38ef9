// Sends identify/track/page with @segment/analytics-node to a kundresa collector.
// usage: node send.mjs HOST WRITE_KEY RUN_ID   (prints the messageIds it sent, one JSON line)
import { Analytics } from "@segment/analytics-node";

const [host, writeKey, run] = process.argv.slice(2);
const analytics = new Analytics({ writeKey, host, path: "/v1/batch", maxRetries: 5, flushAt: 3, flushInterval: 200 });
const sent = [];
analytics.on("track", (ctx) => sent.push(ctx.event.messageId));
analytics.on("identify", (ctx) => sent.push(ctx.event.messageId));
analytics.on("page", (ctx) => sent.push(ctx.event.messageId));
const failed = [];
analytics.on("error", (err) => failed.push(String(err && (err.reason || err.code || err))));
const anonymousId = `node-anon-${run}`;
const userId = `node-user-${run}`;
analytics.page({ anonymousId, name: "Home", properties: { path: "/" } });
analytics.track({ anonymousId, event: "Viewed Product", properties: { sku: "A1" } });
analytics.identify({ anonymousId, userId, traits: { email: `${run}@example.se` } });
analytics.track({ userId, event: "Order Completed", properties: { revenue: 499, currency: "SEK" } });
await analytics.closeAndFlush({ timeout: 20000 });
console.log(JSON.stringify({ sent, failed }));
