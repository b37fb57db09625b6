// A minimal Wix webhook handler with Wix's own JS SDK: the raw body goes to
// `client.webhooks.process`, which verifies the JWT with the app's public key (RS256) and calls
// the typed handler registered for its event type. Try it with wixauth (README.md, "The webhook lab"):
//
//   export WIX_PUBLIC_KEY="$(wixauth webhook dev-key --format base64)"
//   node handler.mjs &
//   wixauth webhook trigger AppInstalled --to http://localhost:3000/webhooks
//   wixauth webhook test http://localhost:3000/webhooks
//
// Environment: WIX_PUBLIC_KEY (PEM, or base64 of the PEM: the dashboard's key in production,
// the dev key while testing), WIX_APP_ID, PORT (3000), HOST (127.0.0.1).
import http from 'node:http';
import { AppStrategy, createClient } from '@wix/sdk';
import { appInstances } from '@wix/app-management';

const MAX_BODY = 1024 * 1024; // Wix's deliveries are a few KB

const client = createClient({
  auth: AppStrategy({
    appId: process.env.WIX_APP_ID ?? '',
    publicKey: process.env.WIX_PUBLIC_KEY,
  }),
  modules: { appInstances },
});

// One JSON line per event on stdout: which typed handler ran, and what it was given (with the
// fields the SDK turned into Date objects).
function log(handler) {
  return (event) => {
    const data = event.data ?? {};
    const dates = Object.keys(data).filter((k) => data[k] instanceof Date);
    console.log(JSON.stringify({ handler, metadata: event.metadata, data, dates }));
  };
}
const on = client.appInstances;
on.onAppInstanceInstalled(log('onAppInstanceInstalled'));
on.onAppInstanceRemoved(log('onAppInstanceRemoved'));
on.onAppInstancePaidPlanPurchased(log('onAppInstancePaidPlanPurchased'));
on.onAppInstancePaidPlanChanged(log('onAppInstancePaidPlanChanged'));
on.onAppInstancePaidPlanAutoRenewalCancelled(log('onAppInstancePaidPlanAutoRenewalCancelled'));
on.onAppInstancePlanConvertedToPaid(log('onAppInstancePlanConvertedToPaid'));
on.onAppInstancePlanReactivated(log('onAppInstancePlanReactivated'));
on.onAppInstancePlanTransferred(log('onAppInstancePlanTransferred'));

function answer(res, status, text) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
  res.end(`${text}\n`);
}

const server = http.createServer(async (req, res) => {
  if (req.method !== 'POST') return answer(res, 405, 'POST only');
  // The raw body, byte for byte: the signature covers exactly these bytes.
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY) {
      answer(res, 413, 'payload too large');
      return req.destroy();
    }
    chunks.push(chunk);
  }
  try {
    await client.webhooks.process(Buffer.concat(chunks).toString('utf8'));
    answer(res, 200, 'ok');
  } catch (e) {
    answer(res, 401, `invalid webhook: ${e.message}`);
  }
});

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
server.listen(port, host, () => {
  console.error(`listening on http://${host}:${server.address().port}/webhooks`);
});
