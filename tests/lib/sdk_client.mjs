// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// A real LLM client for the tests: the official `openai` SDK (pinned in
// package.json; `npm ci --prefix tests/lib`), making chat-completion calls
// through its own keep-alive connection pool, as an application would.
//
//   node sdk_client.mjs --base-url URL [--calls N] [--duration S]
//        [--concurrency C] [--max-retries R] [--stream | --stream-bare | --mix]
//        [--max-tokens M] [--prompt-chars P] [--prompt TEXT] [--timeout-ms T] [--detail]
//        [--api-key K | --no-key]
//
// C workers make calls back to back until N calls have been started or S
// seconds have passed (whichever comes first; at least one of the two). Every
// HTTP attempt goes through a fetch wrapper handed to the SDK, so what the SDK
// does between attempts is seen from outside: each attempt's start, status,
// Retry-After / retry-after-ms and end; the wait before a retry is the time
// from the end of the refused attempt (its response headers, or its error) to
// the start of the next. Prints one JSON line (times in ms from the start of
// the run unless named _s):
//   calls ok errors{RateLimitError,APIConnectionError,other} error_names{}
//   attempts statuses{} wasted_attempts max_wasted_per_call wasted_hist{}
//   retries{count, after_429, early, min_slack_ms, max_slack_ms}
//   retry_after{count, missing, min_ms, max_ms, min_s, max_s}
//   error_types{} (the `type` of refused calls' error bodies)
//   chunks usage_seen usage_tokens (the total_tokens of the usage the SDK got)
//   kinds{json, stream_usage, stream_bare} (calls of each kind that succeeded)
//   first_ok_ms last_ok_ms wall_s
//   ratelimit{} (the x-ratelimit-* headers of the last 429, without the prefix)
//   first_attempt_ms last_attempt_ms (the span a limiter saw requests in: the
//     wall time also holds node's and the SDK's start-up, ~0.1-0.4 s)
//   detail[] (with --detail: each call's attempts and waits)
// "wasted" attempts are those of a call that did not return its completion:
// a call that succeeded after one 429 wasted one.
// --stream: every call streams with stream_options.include_usage;
// --stream-bare: streams without it; --mix:
// calls take turns: not streamed, streamed with include_usage, streamed
// without it (as an application mixing them would). --max-tokens M asks for M
// completion tokens (default 16); --prompt-chars P pads the prompt to P
// characters; --prompt TEXT is the prompt. --api-key K is the key the SDK
// sends (Authorization: Bearer K; default sk-infergate-test); --no-key sends
// none (the header taken off each attempt).
import OpenAI from 'openai';
import { performance } from 'node:perf_hooks';

function usage(msg) {
	if (msg) console.error(`sdk_client: ${msg}`);
	console.error('usage: node sdk_client.mjs --base-url URL [--calls N] [--duration S] ' +
		'[--concurrency C] [--max-retries R] [--stream | --stream-bare | --mix] ' +
		'[--max-tokens M] [--prompt-chars P] [--prompt TEXT] [--timeout-ms T] [--detail] ' +
		'[--api-key K | --no-key]');
	process.exit(2);
}

const opt = { baseURL: '', calls: 0, duration: 0, concurrency: 1, maxRetries: 2,
	stream: false, streamBare: false, mix: false, prompt: null, maxTokens: 16, promptChars: 0, timeoutMs: 30000, detail: false,
	apiKey: 'sk-infergate-test', noKey: false };
{
	const a = process.argv.slice(2);
	const num = (i) => {
		const v = Number(a[i + 1]);
		if (a[i + 1] === undefined || !Number.isFinite(v) || v < 0) usage(`bad value for ${a[i]}`);
		return v;
	};
	for (let i = 0; i < a.length; i++) {
		switch (a[i]) {
		case '--base-url': opt.baseURL = a[++i] ?? usage('--base-url needs a URL'); break;
		case '--calls': opt.calls = Math.floor(num(i++)); break;
		case '--duration': opt.duration = num(i++); break;
		case '--concurrency': opt.concurrency = Math.max(1, Math.floor(num(i++))); break;
		case '--max-retries': opt.maxRetries = Math.floor(num(i++)); break;
		case '--timeout-ms': opt.timeoutMs = Math.floor(num(i++)); break;
		case '--stream': opt.stream = true; break;
		case '--stream-bare': opt.streamBare = true; break;
		case '--mix': opt.mix = true; break;
		case '--prompt': opt.prompt = a[++i] ?? usage('--prompt needs a text'); break;
		case '--max-tokens': opt.maxTokens = Math.max(1, Math.floor(num(i++))); break;
		case '--prompt-chars': opt.promptChars = Math.floor(num(i++)); break;
		case '--detail': opt.detail = true; break;
		case '--api-key': opt.apiKey = a[++i] || usage('--api-key needs a key'); break;
		case '--no-key': opt.noKey = true; break;
		case '-h': case '--help': usage(); break;
		default: usage(`unknown argument ${a[i]}`);
		}
	}
	if (!opt.baseURL) usage('--base-url is required');
	try { new URL(opt.baseURL); } catch { usage(`not a URL: ${opt.baseURL}`); }
	if (!opt.calls && !opt.duration) usage('give --calls, --duration or both');
}

const t0 = performance.now();
const now = () => Math.round((performance.now() - t0) * 10) / 10;

// attempts of each call, by the id the call sends in x-ig-call
const attempts = new Map();

let lastRateLimit = null; // the x-ratelimit-* of the last 429, names without the prefix
async function tracingFetch(url, init) {
	const h = new Headers(init?.headers);
	if (opt.noKey) {
		h.delete('authorization');
		init = { ...init, headers: h };
	}
	const id = h.get('x-ig-call');
	const rec = { start: now(), retry: Number(h.get('x-stainless-retry-count') ?? 0) };
	if (id !== null) attempts.get(id)?.push(rec);
	try {
		const res = await fetch(url, init);
		rec.end = now();
		rec.status = res.status;
		if (res.status === 429) {
			rec.retry_after = res.headers.get('retry-after');
			rec.retry_after_ms = res.headers.get('retry-after-ms');
			rec.content_type = res.headers.get('content-type');
			const rl = {};
			for (const [k, v] of res.headers)
				if (k.startsWith('x-ratelimit-')) rl[k.slice(12)] = v;
			lastRateLimit = rl;
		}
		return res;
	} catch (e) {
		rec.end = now();
		rec.error = String(e?.cause?.code ?? e?.cause?.name ?? e?.name ?? e);
		throw e;
	}
}

const client = new OpenAI({
	apiKey: opt.apiKey,
	baseURL: opt.baseURL,
	maxRetries: opt.maxRetries,
	timeout: opt.timeoutMs,
	fetch: tracingFetch,
});

const out = {
	calls: 0, ok: 0,
	errors: { RateLimitError: 0, APIConnectionError: 0, other: 0 },
	error_names: {}, error_types: {}, other_errors: [],
	chunks: 0, usage_seen: 0, usage_tokens: 0,
	kinds: { json: 0, stream_usage: 0, stream_bare: 0 }, first_ok_ms: null, last_ok_ms: null,
};
const calls = [];
let started = 0;

async function oneCall(id) {
	const key = String(id);
	const call = { id, start: now(), attempts: [] };
	attempts.set(key, call.attempts);
	calls.push(call);
	let content = opt.prompt ?? `call ${id}: say hello`;
	while (content.length < opt.promptChars) content += ' and tell me more about it';
	const body = {
		model: 'infergate-test',
		messages: [{ role: 'user', content: opt.promptChars ? content.slice(0, opt.promptChars) : content }],
		max_tokens: opt.maxTokens,
	};
	const ropt = { headers: { 'x-ig-call': key } };
	const kind = opt.mix ? ['json', 'stream_usage', 'stream_bare'][id % 3] :
		opt.stream ? 'stream_usage' : opt.streamBare ? 'stream_bare' : 'json';
	try {
		if (kind !== 'json') {
			const extra = kind === 'stream_usage' ? { stream_options: { include_usage: true } } : {};
			const stream = await client.chat.completions.create(
				{ ...body, stream: true, ...extra }, ropt);
			for await (const chunk of stream) {
				out.chunks++;
				if (chunk.usage) {
					out.usage_seen++;
					out.usage_tokens += chunk.usage.total_tokens;
				}
			}
		} else {
			const r = await client.chat.completions.create(body, ropt);
			if (!r.choices?.length || !r.usage) throw new Error('completion without choices or usage');
			out.usage_seen++;
			out.usage_tokens += r.usage.total_tokens;
		}
		out.kinds[kind]++;
		call.ok = true;
		call.end = now();
		out.ok++;
		out.first_ok_ms ??= call.end;
		out.last_ok_ms = call.end;
	} catch (e) {
		call.end = now();
		const name = e?.constructor?.name ?? 'Error';
		call.error = name;
		out.error_names[name] = (out.error_names[name] ?? 0) + 1;
		if (e instanceof OpenAI.RateLimitError) {
			out.errors.RateLimitError++;
			const t = e.type ?? '(none)';
			out.error_types[t] = (out.error_types[t] ?? 0) + 1;
		} else if (e instanceof OpenAI.APIConnectionError) {
			out.errors.APIConnectionError++;
		} else {
			out.errors.other++;
			if (out.other_errors.length < 5) out.other_errors.push(String(e?.message ?? e).slice(0, 200));
		}
	}
}

async function worker() {
	const deadline = opt.duration ? opt.duration * 1000 : Infinity;
	while ((!opt.calls || started < opt.calls) && now() < deadline)
		await oneCall(started++);
}

await Promise.all(Array.from({ length: opt.concurrency }, worker));
out.wall_s = Math.round(performance.now() - t0) / 1000;
out.calls = calls.length;

// What the attempts say about the SDK's retries.
const statuses = {};
const rw = { count: 0, after_429: 0, early: 0, min_slack_ms: null, max_slack_ms: null };
const ra = { count: 0, missing: 0, min_ms: null, max_ms: null, min_s: null, max_s: null };
const hist = {};
const lo = (a, b) => (a === null || b < a ? b : a);
const hi = (a, b) => (a === null || b > a ? b : a);
let nattempts = 0, wasted = 0, maxWasted = 0, firstAt = null, lastAt = null;
for (const c of calls) {
	const w = c.attempts.length - (c.ok ? 1 : 0);
	wasted += w;
	maxWasted = Math.max(maxWasted, w);
	hist[w] = (hist[w] ?? 0) + 1;
	c.waits = [];
	c.attempts.forEach((at, i) => {
		nattempts++;
		firstAt = lo(firstAt, at.start);
		lastAt = hi(lastAt, at.start);
		const s = at.status ?? `error:${at.error}`;
		statuses[s] = (statuses[s] ?? 0) + 1;
		// what the refusal advised, in ms: retry-after-ms first, as the SDK reads it
		let advised = null;
		if (at.status === 429) {
			ra.count++;
			const ms = parseFloat(at.retry_after_ms ?? '');
			const s = parseFloat(at.retry_after ?? '');
			if (Number.isNaN(ms) && Number.isNaN(s)) ra.missing++;
			if (!Number.isNaN(ms)) { ra.min_ms = lo(ra.min_ms, ms); ra.max_ms = hi(ra.max_ms, ms); }
			if (!Number.isNaN(s)) { ra.min_s = lo(ra.min_s, s); ra.max_s = hi(ra.max_s, s); }
			advised = !Number.isNaN(ms) ? ms : !Number.isNaN(s) ? s * 1000 : null;
		}
		const next = c.attempts[i + 1];
		if (!next) return;
		const wait = Math.round((next.start - at.end) * 10) / 10;
		c.waits.push(wait);
		rw.count++;
		if (advised === null) return;
		rw.after_429++;
		const slack = Math.round((wait - advised) * 10) / 10;
		if (slack < 0) rw.early++;
		rw.min_slack_ms = lo(rw.min_slack_ms, slack);
		rw.max_slack_ms = hi(rw.max_slack_ms, slack);
	});
}
Object.assign(out, { attempts: nattempts, statuses, wasted_attempts: wasted,
	max_wasted_per_call: maxWasted, wasted_hist: hist, retries: rw, retry_after: ra,
	first_attempt_ms: firstAt, last_attempt_ms: lastAt, ratelimit: lastRateLimit });
if (opt.detail) out.detail = calls;
console.log(JSON.stringify(out));
