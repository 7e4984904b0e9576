// The official Node SDK (@fingerprint/node-sdk 7.x) against the bundled reference server.
//
// Driven by tests/test_node_sdk_interop.py. Reads a plan from stdin (keys never go in argv):
//   {"target": "http://127.0.0.1:PORT", "apiKey": "...", "calls": [
//      {"call": "updateEvent", "eventId": "...", "body": {...}, "apiKey": "(optional, overrides)"},
//      {"call": "getEvent", "eventId": "..."},
//      {"call": "construct", "apiKey": ""}]}
// and prints one JSON array on stdout, a result per call, in order:
//   {"ok": true, "value": ..., "requests": [...]}  or  {"ok": false, "error": {...}, "requests": [...]}
//
// The SDK has no base-URL option: it builds `https://api.fpjs.io/v4/...` (Region.Global) itself.
// Its documented `fetch` option is the one seam; the fetch given here sends the SDK's request
// unchanged (method, path, query, headers, body) to `target` instead of that origin, and records it.

import { FingerprintServerApiClient, Region, RequestError, SdkError, ServerApiError } from '@fingerprint/node-sdk'

const SDK_ORIGIN = 'https://api.fpjs.io' // what Region.Global resolves to
const TIMEOUT_MS = 10_000

function redirectingFetch(target, requests) {
  return async (input, init) => {
    const addressed = new URL(String(input))
    if (addressed.origin !== SDK_ORIGIN) {
      throw new Error(`the SDK addressed ${addressed.origin}, not ${SDK_ORIGIN}`)
    }
    const request = new Request(new URL(addressed.pathname + addressed.search, target), {
      ...init,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    })
    requests.push({
      method: request.method,
      url: addressed.toString(),
      // as fetch will send them: a string body gets fetch's default Content-Type
      headers: Object.fromEntries(request.headers),
      body: typeof init?.body === 'string' ? init.body : null,
    })
    return fetch(request)
  }
}

function describe(error) {
  const out = { name: error?.constructor?.name ?? typeof error, message: String(error?.message ?? error) }
  out.isSdkError = error instanceof SdkError
  out.isRequestError = error instanceof RequestError
  out.isServerApiError = error instanceof ServerApiError
  if (error instanceof RequestError) {
    out.statusCode = error.statusCode
    out.errorCode = error.errorCode
    out.responseBody = error.responseBody
  }
  return out
}

async function run(plan, call) {
  const requests = []
  try {
    const client = new FingerprintServerApiClient({
      apiKey: call.apiKey ?? plan.apiKey,
      region: Region.Global,
      fetch: redirectingFetch(plan.target, requests),
    })
    let value = null
    if (call.call === 'updateEvent') {
      value = (await client.updateEvent(call.eventId, call.body)) ?? null
    } else if (call.call === 'getEvent') {
      value = await client.getEvent(call.eventId)
    } else if (call.call !== 'construct') {
      throw new Error(`unknown call ${call.call}`)
    }
    return { ok: true, value, requests }
  } catch (error) {
    return { ok: false, error: describe(error), requests }
  }
}

async function main() {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  const plan = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  const results = []
  for (const call of plan.calls) results.push(await run(plan, call))
  process.stdout.write(JSON.stringify(results) + '\n')
}

await main()
