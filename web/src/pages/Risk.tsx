// The off-chain capital model per pool: the loss-exceedance curve, VaR and TVaR at 99.5%, the
// expected annual loss, the reserve ratio, and each product's recommended rate (calibrated on the
// public incident history, docs/incidents.md) next to its current one.
import { useState } from "preact/hooks";
import * as chain from "../api/chain";
import type { CapitalModel, PoolView } from "../api/types";
import { Chart, type Threshold } from "../components/Chart";
import { Card, Empty, Show, Stat } from "../components/ui";
import { coin, denomInfo } from "../format";
import { useAsync } from "../hooks";

const TRIALS = [2000, 20000, 100000];

export function Risk() {
  const pools = useAsync(() => chain.pools().then((a) => a.data.pools), []);
  const [trials, setTrials] = useState(20000);
  return (
    <>
      <h1>Risk</h1>
      <p class="lead">
        The node simulates a year of incidents over each pool's live book (Monte Carlo, fixed seed) and reports the
        distribution of the pool's losses after reinsurance.{" "}
        <label class="inline-label">
          Trials{" "}
          <select value={trials} onChange={(e) => setTrials(Number((e.target as HTMLSelectElement).value))}>
            {TRIALS.map((t) => (
              <option key={t} value={t}>
                {t.toLocaleString()}
              </option>
            ))}
          </select>
        </label>
      </p>
      <Show state={pools} what="the pools">
        {(list) =>
          list.length === 0 ? (
            <Empty>No pools.</Empty>
          ) : (
            <div class="grid">
              {list.map((p) => (
                <PoolRisk key={p.pool.id} view={p} trials={trials} />
              ))}
            </div>
          )
        }
      </Show>
    </>
  );
}

/** A probability as the node gives it: `0.0012`, or `0.1200%`. */
function probability(v: number | string): number {
  if (typeof v === "number") return v;
  const n = parseFloat(v);
  return v.trim().endsWith("%") ? n / 100 : n;
}

/** Basis points as a percentage: `250` → `2.5%`. */
function rate(bps: number): string {
  return `${Number((bps / 100).toFixed(2))}%`;
}

/** `12345uusdc` → 12345 (base units). */
function base(s: string): number {
  return Number(s.match(/^\d+/)?.[0] ?? 0);
}

function PoolRisk({ view, trials }: { view: PoolView; trials: number }) {
  const model = useAsync(() => chain.capitalModel(view.pool.id, trials), [view.pool.id, trials]);
  return (
    <Card
      testid={`risk-${view.pool.id}`}
      title={
        <>
          <span class="muted">#{view.pool.id}</span> {view.pool.name}
        </>
      }
    >
      <Show state={model} what="the capital model">
        {(m) => <ModelView model={m} denom={view.pool.denom} loading={model.loading} />}
      </Show>
    </Card>
  );
}

function ModelView({ model: m, denom, loading }: { model: CapitalModel; denom: string; loading: boolean }) {
  const scale = 10 ** denomInfo(denom).decimals;
  const ruin = probability(m.probability_loss_exceeds_capital);
  const curve = m.curve.filter(([, prob]) => prob > 0);
  const marks: Threshold[] = [{ value: 0.005, label: "0.5% (1 in 200 years)", color: "#dc2626" }];
  return (
    <>
      <div class="stats">
        <Stat label="Capital" value={coin(m.capital, 0)} />
        <Stat label="Expected annual loss" value={coin(m.expected_annual_loss, 0)} />
        <Stat label="VaR 99.5%" value={coin(m.var_99_5, 0)} hint="the loss exceeded in 1 year in 200" />
        <Stat label="TVaR 99.5%" value={coin(m.tvar_99_5, 0)} hint="the mean loss in the worst 0.5% of years" />
        <Stat
          label="P(loss > capital)"
          value={`${Number((ruin * 100).toPrecision(2))}%`}
          hint="the probability of ruin"
        />
        <Stat label="Worst simulated" value={coin(m.max_simulated_loss, 0)} />
        <Stat
          label="Reserve ratio"
          value={m.reserve_ratio === null ? "—" : `${m.reserve_ratio.toFixed(2)}×`}
          hint="capital ÷ expected annual loss; 1.5–2× is the rule of thumb"
        />
      </div>
      <h3>
        Loss exceedance{" "}
        <span class="muted small">
          ({Number(m.trials).toLocaleString()} trials{loading ? ", updating…" : ""})
        </span>
      </h3>
      {curve.length === 0 ? (
        <p class="muted">No simulated loss: the pool has no active cover.</p>
      ) : (
        <Chart
          testid="risk-curve"
          x={curve.map(([loss]) => loss / scale)}
          xLabel={`annual loss (${denomInfo(denom).symbol})`}
          xFormat={(v) => v.toLocaleString(undefined, { maximumFractionDigits: 0 })}
          ys={[curve.map(([, prob]) => prob)]}
          lines={[{ label: "P(loss ≥ x)", format: (v) => `${(v * 100).toPrecision(2)}%` }]}
          logY
          thresholds={marks}
          height={220}
        />
      )}
      {m.products.length > 0 && (
        <table class="table compact">
          <thead>
            <tr>
              <th>Product</th>
              <th class="num">Net exposure</th>
              <th class="num">Incidents a year</th>
              <th class="num">Mean severity</th>
              <th class="num" title="expected loss plus the model's loading, next to the product's base rate on chain">
                Annual rate
              </th>
            </tr>
          </thead>
          <tbody>
            {m.products.map((p) => (
              <tr key={p.product}>
                <td>{p.product}</td>
                <td class="num">{coin(p.net_exposure, 0)}</td>
                <td class="num">
                  {Number(p.annual_frequency).toLocaleString(undefined, { maximumFractionDigits: 3 })}
                </td>
                <td class="num">{`${Number((Number(p.mean_severity) * 100).toFixed(1))}%`}</td>
                <td class="num" data-testid="rate">
                  recommended {rate(p.recommended_rate_bps)} / current {rate(p.current_rate_bps)}
                  <span class="muted small"> ({p.category})</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p class="muted small">
        Capital covers VaR 99.5% {base(m.capital) >= base(m.var_99_5) ? "✓" : "✗"} · TVaR 99.5%{" "}
        {base(m.capital) >= base(m.tvar_99_5) ? "✓" : "✗"}
      </p>
    </>
  );
}
