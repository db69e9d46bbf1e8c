// Worker for the Node SDK wechatpay-axios-plugin (npm), run by run.py with node.
//
//   node tools/bench/node_peer.js --keys-dir DIR [--calls N] [--concurrency 1,8,64]
//
// The SDK is installed by run.py into tools/bench/.node-peer (never into the package or
// the tests) and loaded from there. Same responder and operation as ours.py and peer.py
// (POST /v3/profitsharing/return-orders with the same fields), written as the SDK's users
// write it: wxpay.v3.profitsharing.returnOrders.post(data). The client is the SDK's
// default (axios, Node's default keep-alive agent); its only setting besides the keys is
// baseURL, the responder's. Every answer is verified by the SDK's own response verifier with
// the responder's platform public key (a failed verification rejects the call).
// Prints one JSON line in the shape of benchlib.Measurement.

'use strict';

const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

// The SDK from the benchmark's own folder (run.py installs it there), nowhere else.
const peerRequire = createRequire(path.join(__dirname, '.node-peer', 'package.json'));
const { Wechatpay } = peerRequire('wechatpay-axios-plugin');

const PAYLOAD = {
  out_order_no: 'P20150806125346',
  out_return_no: 'R20190516001',
  return_mchid: '86693852',
  amount: 10,
  description: '用户退款',
};

function options(argv) {
  const result = { calls: 2000, concurrency: '1,8,64', warmup: 30 };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '').replace(/-/g, '_');
    result[name] = argv[i + 1];
  }
  if (!result.keys_dir) throw new Error('--keys-dir is required');
  result.calls = Number(result.calls);
  result.concurrency = String(result.concurrency).split(',').filter(Boolean).map(Number);
  return result;
}

function split(total, parts) {
  const base = Math.floor(total / parts);
  const rest = total % parts;
  return Array.from({ length: parts }, (_, i) => base + (i < rest ? 1 : 0));
}

function cpuSeconds() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

// The same loop as benchlib.drive: `concurrency` workers, each awaiting one call at a time.
async function drive(call, n, concurrency, name, warmup) {
  const latencies = [];
  let errors = 0;
  let firstError = '';
  async function worker(count, record) {
    for (let i = 0; i < count; i += 1) {
      const start = process.hrtime.bigint();
      try {
        await call();
      } catch (error) {
        errors += 1;
        const detail = error && error.response ? ` ${error.response.status} ${JSON.stringify(error.response.data)}` : '';
        firstError = firstError || `${error && error.message}${detail}`.slice(0, 300);
        continue;
      }
      if (record) latencies.push(Number(process.hrtime.bigint() - start) / 1e9);
    }
  }
  await Promise.all(split(Math.max(warmup, concurrency), concurrency).map((count) => worker(count, false)));
  errors = 0;
  firstError = '';
  const cpu0 = cpuSeconds();
  const wall0 = process.hrtime.bigint();
  await Promise.all(split(n, concurrency).map((count) => worker(count, true)));
  const wall = Number(process.hrtime.bigint() - wall0) / 1e9;
  return {
    name,
    calls: latencies.length,
    errors,
    wall,
    cpu: cpuSeconds() - cpu0,
    latencies,
    first_error: firstError,
    extra: {},
  };
}

async function main() {
  const args = options(process.argv.slice(2));
  const folder = args.keys_dir;
  const responder = JSON.parse(fs.readFileSync(path.join(folder, 'responder.json'), 'utf8'));
  const wxpay = new Wechatpay({
    mchid: responder.mchid,
    serial: responder.merchant_serial,
    privateKey: fs.readFileSync(path.join(folder, 'merchant_key.pem')),
    certs: { [responder.platform_key_id]: fs.readFileSync(path.join(folder, 'platform_public.pem')) },
    baseURL: `http://127.0.0.1:${responder.port}/`,
  });
  const { version } = peerRequire('wechatpay-axios-plugin/package.json');

  async function call() {
    const { status, data } = await wxpay.v3.profitsharing.returnOrders.post(PAYLOAD);
    if (status !== 200 || data.result !== 'SUCCESS') throw new Error(`unexpected answer ${status}`);
  }

  const results = [];
  for (const concurrency of args.concurrency) {
    const result = await drive(call, args.calls, concurrency, `node-sdk async c=${concurrency}`, args.warmup);
    result.extra.version = version;
    result.extra.node = process.version;
    results.push(result);
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
