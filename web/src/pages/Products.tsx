// Every product's terms, and a buy form with a live quote and a slippage limit.
import { useState } from "preact/hooks";
import * as chain from "../api/chain";
import { eventAttribute, msg } from "../api/msgs";
import type { Product } from "../api/types";
import { ProductTerms } from "../components/ProductTerms";
import { TxAction } from "../components/TxAction";
import { Badge, Card, Empty, ErrorText, Field, Show } from "../components/ui";
import { amount, bps, denomInfo, toBase } from "../format";
import { useAsync, useDebounced } from "../hooks";
import { useSession } from "../session";

export function Products() {
  const list = useAsync(() => chain.products(), []);
  const [selected, setSelected] = useState<string>();
  const choose = (id: string) => {
    setSelected(id);
    // On a narrow screen the form is above the list, out of sight.
    document.querySelector('[data-testid="buy-form"]')?.scrollIntoView({ behavior: "smooth", block: "nearest" });
  };

  return (
    <>
      <h1>Products</h1>
      <Show state={list} what="the products">
        {(products) => {
          if (products.length === 0) return <Empty>No products listed.</Empty>;
          const product = products.find((p) => p.id === selected) ?? products.find((p) => !p.paused) ?? products[0];
          return (
            <div class="two-col">
              <div class="grid narrow">
                {products.map((p) => (
                  <Card
                    key={p.id}
                    testid={`product-${p.id}`}
                    class={p.id === product.id ? "selected" : ""}
                    title={
                      <>
                        <span class="muted">#{p.id}</span> {p.name}
                      </>
                    }
                    actions={
                      p.paused ? (
                        <Badge tone="bad">paused</Badge>
                      ) : (
                        <button
                          type="button"
                          class="btn btn-secondary"
                          data-testid={`choose-product-${p.id}`}
                          onClick={() => choose(p.id)}
                        >
                          {p.id === product.id ? "Selected" : "Choose"}
                        </button>
                      )
                    }
                  >
                    <ProductTerms product={p} />
                  </Card>
                ))}
              </div>
              <BuyForm key={product.id} product={product} />
            </div>
          );
        }}
      </Show>
    </>
  );
}

function BuyForm({ product }: { product: Product }) {
  const { txCount } = useSession();
  const symbol = denomInfo(product.denom).symbol;
  const [cover, setCover] = useState("1000");
  const [days, setDays] = useState(String(Math.min(Math.max(30, product.min_term_days), product.max_term_days)));
  const [slippage, setSlippage] = useState("1");

  const coverBase = toBase(cover, product.denom);
  const termDays = Number(days);
  const inputError =
    coverBase === null || coverBase === "0"
      ? `Enter a cover amount in ${symbol}`
      : !Number.isInteger(termDays) || termDays < product.min_term_days || termDays > product.max_term_days
        ? `The term is ${product.min_term_days}–${product.max_term_days} days`
        : null;

  const asked = useDebounced({ coverBase, termDays, inputError }, 250);
  const quote = useAsync(
    () => (asked.inputError ? Promise.resolve(null) : chain.quote(product.id, asked.coverBase!, asked.termDays)),
    [product.id, asked.coverBase, asked.termDays, asked.inputError, txCount],
  );
  const fresh = asked.coverBase === coverBase && asked.termDays === termDays;
  const slippageBps = Math.round(Number(slippage) * 100);
  const maxPremium =
    quote.data && Number.isFinite(slippageBps) && slippageBps >= 0
      ? ((BigInt(quote.data.premium) * BigInt(10000 + slippageBps) + 9999n) / 10000n).toString()
      : null;

  return (
    <Card title={`Buy ${product.name}`} testid="buy-form" class="sticky">
      {product.paused && <ErrorText error="This product is paused: it sells no cover." />}
      <div class="form">
        <Field label={`Cover (${symbol})`} hint={`at most ${amount(product.max_cover, product.denom, 0)}`}>
          <input
            data-testid="buy-cover"
            inputMode="decimal"
            value={cover}
            onInput={(e) => setCover((e.target as HTMLInputElement).value)}
          />
        </Field>
        <Field label="Term (days)" hint={`${product.min_term_days}–${product.max_term_days}`}>
          <input
            data-testid="buy-days"
            inputMode="numeric"
            value={days}
            onInput={(e) => setDays((e.target as HTMLInputElement).value)}
          />
        </Field>
        <Field label="Slippage limit (%)" hint="the premium may rise this much before the tx lands">
          <input
            data-testid="buy-slippage"
            inputMode="decimal"
            value={slippage}
            onInput={(e) => setSlippage((e.target as HTMLInputElement).value)}
          />
        </Field>
      </div>
      <div class="quote" data-testid="quote" data-fresh={String(fresh && !quote.loading && !!quote.data)}>
        {inputError ? (
          <span class="muted">{inputError}</span>
        ) : quote.error ? (
          <ErrorText error={quote.error} prefix="No quote" />
        ) : quote.data ? (
          <>
            <div class="quote-premium">
              Premium <strong data-testid="quote-premium">{amount(quote.data.premium, product.denom, 6)}</strong>
              <span class="muted"> at {bps(quote.data.annual_rate_bps)} a year</span>
              {(!fresh || quote.loading) && <span class="spinner" aria-label="updating" />}
            </div>
            {maxPremium && <div class="muted">You pay at most {amount(maxPremium, product.denom, 6)}</div>}
            <div class="muted small">
              Underwritten by{" "}
              {quote.data.allocations
                .map((a) => `pool #${a.pool_id} (${amount(a.cover, product.denom, 0)})`)
                .join(", ")}
            </div>
          </>
        ) : (
          <span class="muted">Quoting…</span>
        )}
      </div>
      <TxAction
        testid="buy-action"
        label="Buy cover"
        disabled={!!inputError || !maxPremium || product.paused}
        build={(wallet) => {
          if (inputError || !maxPremium) throw new Error(inputError ?? "no quote yet");
          return [
            msg("/surety.policy.v1.MsgBuyCover", {
              buyer: wallet.address,
              product_id: product.id,
              cover: coverBase,
              term_days: termDays,
              max_premium: maxPremium,
            }),
          ];
        }}
        onDone={(tx) => `policy #${eventAttribute(tx, "cover_bought", "policy_id") ?? "?"} — see My cover`}
      />
    </Card>
  );
}
