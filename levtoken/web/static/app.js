// The product page: the token list at `/`, a token at `/token/SYMBOL`. Numbers come formatted from the server
// (read from the chain); the wallet's transactions go through the injected EIP-1193 provider with ethers.
import { createChart, LineSeries } from "/vendor/lightweight-charts.mjs";
import { BrowserProvider, Contract, parseUnits } from "/vendor/ethers.mjs";

const $ = (id) => document.getElementById(id);
async function getJSON(url) {
  // the server answers JSON, errors included ({error}); anything else (a proxy's page) is one plain sentence
  const response = await fetch(url);
  const text = await response.text();
  try { return JSON.parse(text); } catch { return { error: `the server answered ${response.status} without data` }; }
}
const utc = (seconds) => new Date(seconds * 1000).toISOString().slice(0, 19).replace("T", " ");
const symbol = decodeURIComponent(location.pathname.split("/token/")[1] || "");

// --- rendering helpers ------------------------------------------------------------------------------
function pairs(table, rows) {
  // rows: [key, label, value]; each value cell carries data-key for readers and tests
  table.innerHTML = rows.map(([key, label, value]) => `<tr><th>${label}</th><td data-key="${key}">${value}</td></tr>`).join("");
}

function body(table, rows, cells) {
  table.tBodies[0].innerHTML = rows.map((row) => `<tr>${cells(row).map((c) => `<td>${c}</td>`).join("")}</tr>`).join("");
}

const signClass = (text) => (text.startsWith("-") ? "down" : "up");

// --- the list ---------------------------------------------------------------------------------------
const changeClass = (text) => (/^[+-]/.test(text) ? signClass(text) : "quiet");

function marketCards(markets) {
  // the underlying first: its price and its move, in chain time
  return markets.map((m) => `<div data-market="${m.market}"><span>${m.market} price (${m.updated})</span>
    <b data-key="price">${m.price}</b> <b data-key="move" class="${changeClass(m.change_24h)}"
    title="over ${m.change_window}">${m.change_24h} <small>(${m.change_window})</small></b></div>`).join("");
}

async function showList() {
  const { tokens, markets, error } = await getJSON("/api/tokens");
  if (error) throw new Error(error);
  $("markets").innerHTML = marketCards(markets);
  $("tokens").tBodies[0].innerHTML = tokens.map((t) => `<tr data-symbol="${t.symbol}">
    <td><a href="/token/${t.symbol}">${t.symbol}</a> <small>${t.label}</small></td>
    <td class="nav">${t.nav}</td><td class="change ${changeClass(t.change_24h)}" title="over ${t.change_window}">${t.change_24h}</td>
    <td class="leverage">${t.leverage}</td><td class="target">${t.target}</td><td class="exposure">${t.exposure}</td>
    <td class="supply">${t.supply}</td><td class="equity">${t.equity}</td></tr>`).join("");
}

// --- a token ----------------------------------------------------------------------------------------
let charts = null;

function makeCharts(band) {
  const options = { height: 260, timeScale: { timeVisible: true }, layout: { attributionLogo: false } };
  const both = [createChart($("nav-chart"), options), createChart($("leverage-chart"), options)];
  const nav = both[0].addSeries(LineSeries, { color: "#2962ff", priceFormat: { precision: 6, minMove: 1e-6 } });
  const levels = [band.min, band.max, band.ripcord, band.target]; // in the token's sign
  const leverage = both[1].addSeries(LineSeries, {
    color: "#1d2330", priceFormat: { precision: 3, minMove: 0.001 },
    autoscaleInfoProvider: () => ({ priceRange: { minValue: Math.min(...levels) - 0.25, maxValue: Math.max(...levels) + 0.25 } }),
  });
  for (const [price, title, color] of [[band.min, "band min", "#0a7d3b"], [band.max, "band max", "#0a7d3b"],
    [band.target, "target", "#5a6273"], [band.ripcord, "ripcord", "#b3261e"]]) {
    leverage.createPriceLine({ price, title, color, lineStyle: 2 });
  }
  return { both, nav, leverage };
}

async function showChain() {
  // the chain's id and RPC URL for a wallet, and a local chain's test key
  const info = await getJSON("/api/deployment");
  if (info.error) return;
  pairs($("chain"), [["chain_id", "chain id", info.chain_id], ["rpc_url", "RPC URL", info.rpc_url],
    ...(info.test_key ? [["test_key", "test key (local chain only)", `<code>${info.test_key}</code>`]] : [])]);
}

async function showToken() {
  const t = await getJSON(`/api/token/${encodeURIComponent(symbol)}`);
  if (t.error && !t.row) {
    if (/not answering/.test(t.error)) throw new Error(t.error);
    $("token-title").textContent = t.error; return;
  }
  const r = t.row;
  if (!$("decay-leverage").value) { $("decay-leverage").value = r.target.replace("x", "").replace(/\.?0+$/, ""); showDecay(); }
  $("token-title").textContent = `${r.name} (${r.symbol}, ${r.label})`;
  $("summary").innerHTML = marketCards([t.market]) + [["nav", "NAV", r.nav],
    ["change", `change (${r.change_window})`, r.change_24h], ["leverage", "real leverage", r.leverage],
    ["target", "target", r.target], ["band", "band", t.band.text], ["ripcord", "ripcord at", t.band.ripcord_text],
    ["exposure", "exposure", r.exposure], ["supply", "supply", r.supply], ["equity", "equity", r.equity]]
    .map(([key, label, value]) => `<div><span>${label}</span><b data-key="${key}">${value}</b></div>`).join("");
  $("no-holders").hidden = r.held;
  $("charts").hidden = !r.held;
  charts ??= makeCharts(t.band);
  charts.nav.setData(t.series.map((p) => ({ time: p.time, value: p.nav })));
  charts.leverage.setData(t.series.map((p) => ({ time: p.time, value: p.leverage })));
  for (const chart of charts.both) chart.timeScale().fitContent();
  const p = t.position;
  pairs($("position"), p);  // [key, label, value] rows: the venue's own (a perpetual position, or a Morpho loop)
  const d = t.due;
  pairs($("due"), [["action", "action due now", d.reason ? `${d.action} (${d.reason})` : d.action],
    ["time_rebalance", "next time rebalance", d.time_rebalance], ["next_time", "scheduled at", `${utc(d.next_time)} UTC`]]);
  const f = t.fees;
  pairs($("fees"), [["mint", "mint fee", f.mint], ["redeem", "redeem fee", f.redeem], ["streaming", "streaming fee", f.streaming],
    ["streaming_taken", "streamed so far", f.streaming_taken], ["entry_exit_taken", "mint and redeem fees so far", f.entry_exit_taken]]);
  pairs($("attribution"), t.attribution.map((a, i) => [`a${i}`, a.label, a.value]));
  $("governance-none").hidden = t.governance.length > 0;
  body($("governance"), t.governance, (g) => [g.lands, g.change]);
  body($("history"), t.history, (h) => [h.block, utc(h.time), h.action, h.reason, h.before, h.after, h.size, h.notional, h.cost]);
  $("requests-due").textContent = t.requests.due || `no settlement due now; ${t.requests.escrow} in escrow`;
  body($("requests"), t.requests.rows, (q) => [q.block, utc(q.time), q.side, q.controller, q.amount, q.state]);
  requests = t.requests.rows;
  if (wallet) await showHolding();
}

// --- the decay calculator ---------------------------------------------------------------------------
async function showDecay() {
  const query = new URLSearchParams({ leverage: $("decay-leverage").value, volatility: $("decay-volatility").value,
    days: $("decay-days").value });
  const d = await getJSON(`/api/decay?${query}`);
  if (d.error) { pairs($("decay-result"), [["error", "error", d.error]]); return; }
  pairs($("decay-result"), [["expected", "expected decay at that volatility", d.expected],
    ["window", "shipped BTC closes", d.window], ["volatility", "their realised volatility", d.volatility],
    ["underlying", "BTC over the window", d.underlying], ["static", "static position (L × BTC)", d.static],
    ["compounded", "(S_t/S_0)^L", d.compounded], ["product", "daily-reset product", d.product],
    ["decay", "decay measured there", d.decay], ["expected_there", "formula at their volatility", d.expected_there]]);
}

// --- the wallet -------------------------------------------------------------------------------------
let wallet = null; // { address, token, collateral, holding } once connected
let requests = []; // the token's latest requests, newest first

function say(text, isError = false) {
  $("wallet-message").textContent = text;
  $("wallet-message").className = isError ? "error" : "";
}

async function connect() {
  if (!window.ethereum) { say("no wallet found: install one that injects window.ethereum", true); return; }
  const provider = new BrowserProvider(window.ethereum);
  await provider.send("eth_requestAccounts", []);
  const signer = await provider.getSigner();
  const [info, tokenAbi, ercAbi] = await Promise.all(["/api/deployment", "/api/abi/LeveragedToken", "/api/abi/TestStablecoin"].map(getJSON));
  wallet = { address: await signer.getAddress(), token: new Contract(info.tokens[symbol].address, tokenAbi, signer),
    collateral: new Contract(info.collateral, ercAbi, signer) };
  $("account").textContent = wallet.address;
  await showHolding();
}

async function showHolding() {
  const h = await getJSON(`/api/holder/${symbol}/${wallet.address}`);
  wallet.holding = h;
  pairs($("holding"), [["balance", "balance", h.balance], ["value", "its value", h.value], ["collateral", "dollars in wallet", h.collateral],
    ["pending_mint", "mint pending", h.pending_mint], ["claimable_mint", "mint claimable", h.claimable_mint],
    ["pending_redeem", "redemption pending", h.pending_redeem], ["claimable_redeem", "redemption claimable", h.claimable_redeem],
    ["claim_gives", "a claim gives", h.claim_gives]]);
  const mine = requests.filter((q) => q.controller.toLowerCase() === wallet.address.toLowerCase());
  body($("my-requests"), mine, (q) => [`block ${q.block}`, utc(q.time), q.side, q.amount, q.state]);
}

function revertData(err) {
  // where ethers and wallets put a revert's data
  for (const e of [err, err?.info?.error, err?.error, err?.info?.error?.data]) {
    const data = typeof e === "string" ? e : e?.data?.data ?? e?.data;
    if (typeof data === "string" && data.startsWith("0x") && data.length >= 10) return data;
  }
  return null;
}

async function explain(err) {
  const data = revertData(err);
  if (data) {
    const { error } = await (await fetch("/api/revert", { method: "POST", body: JSON.stringify({ data }) })).json();
    if (error) return `the transaction reverted: ${error}`;
  }
  return err?.shortMessage || err?.message || String(err);
}

async function act(what, steps) {
  // runs the transactions of one action, then shows the result or the contract's error by name
  if (!wallet) { say("connect a wallet first", true); return; }
  try {
    for (const [label, send] of steps()) {
      say(`${what}: ${label}…`);
      await (await send()).wait();
    }
    say(`${what}: done`);
  } catch (err) {
    say(await explain(err), true);
  }
  await showHolding();
}

function amount(text, decimals, unit) {
  if (!/^\d+(\.\d+)?$/.test(text.trim())) throw new Error(`amount ${JSON.stringify(text)} is not a positive number of ${unit}`);
  const units = parseUnits(text.trim(), decimals);
  if (units === 0n) throw new Error(`amount must be positive (got ${text} ${unit})`);
  return units;
}

function wire() {
  $("decay-form").onsubmit = (e) => { e.preventDefault(); showDecay(); };
  $("connect").onclick = () => connect().catch(async (err) => say(await explain(err), true));
  $("deposit-form").onsubmit = (e) => {
    e.preventDefault();
    let assets;
    try { assets = amount($("deposit-amount").value, 6, "dollars"); } catch (err) { say(err.message, true); return; }
    const { token, collateral, address } = wallet ?? {};
    act("mint", () => [
      ["approving the dollars", () => collateral.approve(token.target, assets)],
      ["requesting the mint", () => token.requestDeposit(assets, address, address)],
    ]);
  };
  $("redeem-form").onsubmit = (e) => {
    e.preventDefault();
    const text = $("redeem-amount").value;
    let shares;
    try { shares = text.trim() === "all" ? BigInt(wallet?.holding?.balance_units ?? 0) : amount(text, 18, "tokens"); }
    catch (err) { say(err.message, true); return; }
    const { token, address } = wallet ?? {};
    act("redemption", () => [["requesting the redemption", () => token.requestRedeem(shares, address, address)]]);
  };
  $("claim").onclick = () => act("claim", () => {
    const { token, address, holding } = wallet;
    const steps = [];
    if (BigInt(holding.max_deposit)) steps.push(["claiming minted tokens", () => token["deposit(uint256,address,address)"](holding.max_deposit, address, address)]);
    if (BigInt(holding.max_redeem)) steps.push(["claiming dollars", () => token["redeem(uint256,address,address)"](holding.max_redeem, address, address)]);
    if (!steps.length) throw new Error("nothing to claim yet: requests wait for a newer price and a keeper");
    return steps;
  });
  $("cancel").onclick = () => act("cancel", () => [["cancelling the mint request", () => wallet.token.cancelDepositRequest(wallet.address, wallet.address)]]);
}

// --- live updates -----------------------------------------------------------------------------------
let lastBlock = -1;
async function poll() {
  try {
    const head = await getJSON("/api/head");
    if (head.error) throw new Error(head.error);
    if (head.block !== lastBlock) {
      lastBlock = head.block;
      await (symbol ? showToken() : showList());
      $("head").textContent = `block ${head.block} · chain time ${utc(head.time)} UTC`;
      $("head").dataset.block = head.block;
      $("head").className = "";
    }
  } catch (err) {
    lastBlock = -1; // read everything again once the chain answers
    $("head").textContent = err.message;
    $("head").className = "error";
  }
  setTimeout(poll, 1000);
}

$(symbol ? "token" : "list").hidden = false;
if (symbol) { wire(); showChain(); }
poll();
