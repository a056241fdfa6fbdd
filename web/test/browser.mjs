// Drives the web app in headless Chromium (Debian's, never a downloaded one) against a running
// localnet that serves it, as its users would:
//   - the market's pools and charts, and alice's deposit into pool 1;
//   - alice votes on a governance proposal in its voting period, if there is one;
//   - carol stakes as an assessor;
//   - bob sees an impossible order refused, buys three custody covers with the live quote, files
//     claims on two, and transfers the third to alice;
//   - carol approves the first claim; nobody votes on the second;
//   - the oracle page (and an incident's attestations, if one was reported) and the risk page;
//   - alice, through a stand-in Keplr (window.keplr backed by her demo key), gets the chain
//     suggested, sees the transferred policy and transfers it back;
//   - once voting closes (60 s on a localnet): the first claim is paid, the second rejected, and
//     bob appeals it.
// Saves a screenshot of every page, prints a JSON summary on stdout, exits non-zero on failure.
//
//   SURETY_WEB_URL=http://127.0.0.1:1317/ SURETY_SCREENSHOTS=./screenshots node test/browser.mjs
//
// Env: SURETY_WEB_URL (required: where the node serves the app and its localnet.json),
// SURETY_SCREENSHOTS (default ./screenshots), CHROMIUM (default /usr/bin/chromium),
// SURETY_WAIT_PAYOUT=0 to stop before voting closes.
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import { chromium } from "playwright-core";

const base = process.env.SURETY_WEB_URL;
if (!base) {
  console.error("SURETY_WEB_URL is not set (e.g. http://127.0.0.1:1317/)");
  process.exit(2);
}
const shots = resolve(process.env.SURETY_SCREENSHOTS ?? "screenshots");
const waitPayout = process.env.SURETY_WAIT_PAYOUT !== "0";
mkdirSync(shots, { recursive: true });

const summary = { url: base, steps: [], screenshots: [], pageErrors: [], ok: false };
const started = Date.now();
const log = (msg) => {
  summary.steps.push({ at: ((Date.now() - started) / 1000).toFixed(1), step: msg });
  console.error(`[browser] ${msg}`);
};

const localnet = await (await fetch(new URL("localnet.json", base))).json();
const account = (name) => {
  const a = localnet.accounts.find((a) => a.name === name);
  if (!a) throw new Error(`no demo account ${name} in localnet.json`);
  return a;
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});

async function newPage(context) {
  const page = await context.newPage();
  page.on("pageerror", (e) => summary.pageErrors.push(String(e)));
  // A 404 is expected while a tx waits for its block (and for an account that is not an assessor).
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource"))
      summary.pageErrors.push(`console: ${m.text()}`);
  });
  return page;
}

const viewport = { width: 1440, height: 1000 };
let page = await newPage(await browser.newContext({ viewport }));

async function open(route) {
  await page.goto(new URL(`#/${route}`, base).toString());
  await page.waitForSelector(`[data-testid="page-${route}"]`);
}

async function screenshot(name) {
  await page.waitForTimeout(400); // charts settle
  const path = `${shots}/${name}.png`;
  await page.screenshot({ path, fullPage: true });
  summary.screenshots.push(path);
}

async function signIn(name) {
  await page.waitForSelector(`[data-testid="account-select"] option[value="${name}"]`, { state: "attached" });
  await page.selectOption('[data-testid="account-select"]', name);
  await page.waitForSelector('[data-testid="account-address"]');
  log(`signed in as ${name}`);
}

/**
 * Clicks the TxAction `testid` and waits for its block (or, when the tx makes the action go
 * away, for `until`); throws with the error shown beside the action.
 */
async function transact(testid, { until, timeout = 60_000 } = {}) {
  const runs = Number((await page.getAttribute(`[data-testid="${testid}"]`, "data-runs")) ?? 0);
  await page.click(`[data-testid="${testid}"] button`);
  // this attempt's outcome, not the last one's
  const action = page.locator(`[data-testid="${testid}"][data-runs="${runs + 1}"]`);
  const error = action.locator('[data-state="error"]');
  const done = until ?? action.locator('[data-state="done"]');
  await done.or(error).first().waitFor({ timeout });
  if (await error.count()) throw new Error(`${testid}: ${await error.first().textContent()}`);
  const text = until ? "done" : ((await done.first().textContent()) ?? "");
  log(`${testid}: ${text}`);
  return text;
}

async function buy(cover, days) {
  await page.fill('[data-testid="buy-cover"]', cover);
  await page.fill('[data-testid="buy-days"]', days);
  await page.waitForSelector('[data-testid="quote"][data-fresh="true"]', { timeout: 20_000 });
  const premium = (await page.textContent('[data-testid="quote-premium"]'))?.trim();
  log(`quote for ${cover} USDC over ${days} days: ${premium}`);
  const bought = await transact("buy-action");
  const id = bought.match(/policy #(\d+)/)?.[1];
  if (!id) throw new Error(`no policy id in "${bought}"`);
  return { id, premium };
}

async function fileClaim(policyId, loss) {
  await page.click(`[data-testid="file-claim-${policyId}"]`);
  const form = page.locator(`[data-testid="claim-form-${policyId}"]`);
  await form.locator('[data-testid="claim-loss"]').fill(loss);
  await form.locator('[data-testid="claim-incident"]').fill("withdrawals halted");
  await form.locator('[data-testid="claim-evidence"]').fill("https://status.example/incident");
  const filed = await transact(`claim-action-${policyId}`);
  const id = filed.match(/claim #(\d+)/)?.[1];
  if (!id) throw new Error(`no claim id in "${filed}"`);
  await page.waitForSelector(`[data-testid="claim-${id}"]`, { timeout: 20_000 });
  return id;
}

async function transferPolicy(policyId, to) {
  await page.click(`[data-testid="transfer-${policyId}"]`);
  await page.fill(`[data-testid="transfer-to-${policyId}"]`, to);
  // The policy leaves this account's list once the transfer is in a block.
  await transact(`transfer-action-${policyId}`, {
    until: page.locator(`[data-testid="page-cover"]:not(:has([data-testid="policy-${policyId}"]))`),
  });
}

try {
  // Market
  await open("market");
  await page.waitForSelector('[data-testid="pool-1"]', { timeout: 30_000 });
  summary.pools = await page.locator('[data-testid^="pool-"][class*="card"]').count();
  await page.waitForSelector('[data-testid="pool-chart-1"] canvas', { timeout: 30_000 });
  log(`market shows ${summary.pools} pools`);

  // Market: alice provides 1 000 USDC of capital to pool 1
  await signIn("alice");
  await page.fill('[data-testid="deposit-amount-1"]', "1000");
  await transact("deposit-action-1");
  await page.waitForFunction(
    () =>
      !/^0 /.test(
        document.querySelector('[data-testid="position-1"] [data-testid="position-value"]')?.textContent ?? "0 ",
      ),
    null,
    { timeout: 20_000 },
  );
  summary.positionValue = (await page.textContent('[data-testid="position-1"] [data-testid="position-value"]'))?.trim();
  log(`alice's position in pool 1: ${summary.positionValue}`);
  await screenshot("market");

  // Governance: alice votes yes on a proposal in its voting period
  await open("governance");
  await page.waitForSelector("main >> text=/No proposals|Proposer/", { timeout: 20_000 });
  const yes = page.locator('[data-testid^="gov-vote-"][data-testid$="-yes"]');
  if (await yes.count()) {
    summary.govVote = await yes.first().getAttribute("data-testid");
    await transact(summary.govVote);
  } else {
    log("no proposal in its voting period");
  }
  await screenshot("governance");

  // Assessors: carol stakes 1 000 SURE first, so she can vote as soon as a claim is filed
  await signIn("carol");
  await open("assessors");
  await page.waitForSelector('[data-testid="my-stake"]');
  await page.fill('[data-testid="stake-amount"]', "1000");
  await transact("stake-action");
  await page.waitForFunction(
    () => !/^0 SURE/.test(document.querySelector('[data-testid="my-stake-amount"]')?.textContent ?? "0 SURE"),
    null,
    { timeout: 20_000 },
  );
  summary.assessorStake = (await page.textContent('[data-testid="my-stake-amount"]'))?.trim();

  // Products: bob buys exchange custody cover (product 4, assessed) three times
  await signIn("bob");
  await open("products");
  await page.click('[data-testid="choose-product-4"]');
  await page.fill('[data-testid="buy-cover"]', "5000000");
  await page.fill('[data-testid="buy-days"]', "90");
  summary.quoteError = (await page.locator('[data-testid="quote"] .error').textContent({ timeout: 20_000 }))?.trim();
  log(`an order over the product's max cover: ${summary.quoteError}`);
  const first = await buy("10000", "90");
  summary.quote = first.premium;
  await screenshot("products");
  const second = await buy("2000", "60");
  const third = await buy("1000", "30");
  summary.policyId = first.id;
  summary.rejectedPolicyId = second.id;
  summary.transferredPolicyId = third.id;

  // My cover: claims on the first two, the third goes to alice
  await open("cover");
  await page.locator(`[data-testid="policy-${first.id}"]`).waitFor({ timeout: 20_000 });
  log(`policies #${first.id}, #${second.id}, #${third.id} are under My cover`);
  summary.claimId = await fileClaim(first.id, "4000");
  summary.rejectedClaimId = await fileClaim(second.id, "1000");
  await screenshot("cover");
  await transferPolicy(third.id, account("alice").address);

  // Assessors: carol approves the first claim
  await signIn("carol");
  await open("assessors");
  await page.waitForSelector(`[data-testid="vote-approve-${summary.claimId}"]`, { timeout: 20_000 });
  const voted = page.locator(`[data-testid="open-claim-${summary.claimId}"]`);
  await transact(`vote-approve-${summary.claimId}`, { until: voted.getByText("You voted to approve") });
  await screenshot("assessors");

  // Oracle and risk
  await open("oracle");
  await page.waitForSelector('[data-testid^="feed-chart-"] canvas', { timeout: 30_000 });
  summary.feeds = await page.locator('[data-testid^="feed-chart-"]').count();
  log(`oracle charts ${summary.feeds} feeds`);
  const incidents = page.locator('[data-testid="incidents"] tbody tr');
  if (await incidents.count()) {
    await incidents.first().locator("button").click();
    await page.waitForSelector('[data-testid="attestations"]', { timeout: 20_000 });
    summary.incidentAttestations = (await page.textContent('[data-testid="attestations"]'))?.trim();
    log(`incident attestations: ${summary.incidentAttestations}`);
  }
  await screenshot("oracle");

  await open("risk");
  await page.waitForSelector('[data-testid="risk-1"] [data-testid="risk-curve"] canvas', { timeout: 120_000 });
  summary.var995 = (await page.locator('[data-testid="risk-1"] .stat-value').nth(2).textContent())?.trim();
  log(`risk: pool 1 VaR 99.5% ${summary.var995}`);
  await screenshot("risk");

  // Keplr: alice's key behind a stand-in window.keplr
  const mainPage = page;
  page = await newPage(await keplrContext(account("alice").mnemonic));
  await open("cover");
  await page.click("text=Connect Keplr");
  await page.waitForSelector('[data-testid="account-address"]');
  const shown = await page.getAttribute('[data-testid="account-address"]', "title");
  if (shown !== account("alice").address) throw new Error(`Keplr connected ${shown}, not alice`);
  log(`Keplr connected as alice; suggested ${JSON.stringify(summary.keplrChain)}`);
  await page.locator(`[data-testid="policy-${third.id}"]`).waitFor({ timeout: 20_000 });
  await screenshot("cover-keplr");
  await transferPolicy(third.id, account("bob").address);
  summary.keplrSigned = true;
  await page.close();
  page = mainPage;

  // Once voting closes: the first claim is paid, the second rejected and appealed
  if (waitPayout) {
    await signIn("bob");
    await open("cover");
    const paid = page.locator(`[data-testid="claim-${summary.claimId}"][data-status="CLAIM_STATUS_PAID"]`);
    await paid.waitFor({ timeout: 150_000 });
    summary.payout = (await paid.locator('[data-testid="claim-payout"]').textContent())?.trim();
    log(`claim #${summary.claimId} paid ${summary.payout}`);
    const rejected = `[data-testid="claim-${summary.rejectedClaimId}"]`;
    await page.waitForSelector(`${rejected}[data-status="CLAIM_STATUS_REJECTED"]`, { timeout: 60_000 });
    await transact(`appeal-${summary.rejectedClaimId}`, {
      until: page.locator(`${rejected}[data-status="CLAIM_STATUS_APPEALED"]`),
    });
    summary.appealed = true;
    await screenshot("cover-paid");
  }

  if (summary.pageErrors.length) throw new Error(`the page reported errors: ${summary.pageErrors.join(" | ")}`);
  summary.ok = true;
} catch (e) {
  summary.error = String(e?.message ?? e);
  await screenshot("failure").catch(() => {});
} finally {
  summary.seconds = Math.round((Date.now() - started) / 1000);
  await browser.close();
  console.log(JSON.stringify(summary, null, 2));
  process.exit(summary.ok ? 0 : 1);
}

/**
 * A browser context whose pages see a `window.keplr` that signs with `mnemonic` (in Node, through
 * an exposed function), records the chain it is asked to suggest, and approves everything.
 */
async function keplrContext(mnemonic) {
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(mnemonic, { prefix: "surety" });
  const [key] = await wallet.getAccounts();
  const b64 = (u) => Buffer.from(u).toString("base64");
  const context = await browser.newContext({ viewport });
  await context.exposeFunction("__keplr", async (what, arg) => {
    if (what === "suggest") {
      const info = JSON.parse(arg);
      summary.keplrChain = {
        chainId: info.chainId,
        rest: info.rest,
        currencies: info.currencies.map((c) => c.coinMinimalDenom),
        feeCurrencies: info.feeCurrencies.map((c) => `${c.gasPriceStep?.average}${c.coinMinimalDenom}`),
      };
      return "";
    }
    if (what === "account") return JSON.stringify({ address: key.address, pubkey: b64(key.pubkey) });
    const doc = JSON.parse(arg);
    const { signed, signature } = await wallet.signDirect(doc.address, {
      bodyBytes: Buffer.from(doc.bodyBytes, "base64"),
      authInfoBytes: Buffer.from(doc.authInfoBytes, "base64"),
      chainId: doc.chainId,
      accountNumber: BigInt(doc.accountNumber),
    });
    return JSON.stringify({
      bodyBytes: b64(signed.bodyBytes),
      authInfoBytes: b64(signed.authInfoBytes),
      chainId: signed.chainId,
      accountNumber: String(signed.accountNumber),
      signature,
    });
  });
  await context.addInitScript(() => {
    const fromB64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
    const toB64 = (u) => btoa(String.fromCharCode(...u));
    const signer = {
      async getAccounts() {
        const a = JSON.parse(await window.__keplr("account"));
        return [{ address: a.address, algo: "secp256k1", pubkey: fromB64(a.pubkey) }];
      },
      async signDirect(address, doc) {
        const r = JSON.parse(
          await window.__keplr(
            "sign",
            JSON.stringify({
              address,
              bodyBytes: toB64(doc.bodyBytes),
              authInfoBytes: toB64(doc.authInfoBytes),
              chainId: doc.chainId,
              accountNumber: String(doc.accountNumber),
            }),
          ),
        );
        return {
          signed: {
            bodyBytes: fromB64(r.bodyBytes),
            authInfoBytes: fromB64(r.authInfoBytes),
            chainId: r.chainId,
            accountNumber: BigInt(r.accountNumber),
          },
          signature: r.signature,
        };
      },
    };
    window.keplr = {
      experimentalSuggestChain: async (info) => void (await window.__keplr("suggest", JSON.stringify(info))),
      enable: async () => {},
      getKey: async () => ({ name: "stand-in", bech32Address: JSON.parse(await window.__keplr("account")).address }),
      getOfflineSigner: () => signer,
    };
  });
  return context;
}
