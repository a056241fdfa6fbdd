// Every pool: capital, capacity, utilisation, capital requirement, share price, whether it sells,
// its reinsurance, and charts of capital and utilisation over recent blocks.
import { useEffect, useState } from "preact/hooks";
import * as chain from "../api/chain";
import type { PoolView } from "../api/types";
import { Chart } from "../components/Chart";
import { PoolPosition } from "../components/PoolPosition";
import { Badge, Card, Empty, Show, Stat } from "../components/ui";
import { amount, bps, denomInfo, ratio } from "../format";
import { REFRESH_MS, useAsync } from "../hooks";
import { useSession } from "../session";

const SAMPLES = 30;
const STEP = 2;

interface Sample {
  height: number;
  pools: PoolView[];
}

/** The pools at the last SAMPLES × STEP heights, then one more sample per refresh. */
function usePoolHistory(latest: Sample | undefined): Sample[] {
  const [samples, setSamples] = useState<Sample[]>([]);
  const [loadedFrom, setLoadedFrom] = useState(0);

  useEffect(() => {
    if (!latest) return;
    if (loadedFrom === 0) {
      setLoadedFrom(latest.height);
      const heights: number[] = [];
      for (let k = SAMPLES - 1; k >= 1; k--) {
        const h = latest.height - k * STEP;
        if (h >= 1) heights.push(h);
      }
      Promise.all(
        heights.map((h) =>
          chain.pools(h).then(
            (a) => ({ height: h, pools: a.data.pools }),
            () => null, // pruned or before the pools existed
          ),
        ),
      ).then((old) => {
        const got = old.filter((s): s is Sample => s !== null);
        setSamples((current) => merge([...got, ...current]));
      });
    }
    setSamples((current) => merge([...current, latest]));
  }, [latest?.height]);

  return samples;
}

function merge(samples: Sample[]): Sample[] {
  const byHeight = new Map(samples.map((s) => [s.height, s]));
  return [...byHeight.values()].sort((a, b) => a.height - b.height);
}

export function Market() {
  const { txCount } = useSession();
  const pools = useAsync(
    () => chain.pools().then((a) => ({ height: a.height, pools: a.data.pools })),
    [txCount],
    REFRESH_MS,
  );
  const history = usePoolHistory(pools.data);
  const products = useAsync(() => chain.products(), []);
  const productName = (id: string) => products.data?.find((p) => p.id === id)?.name ?? `product ${id}`;

  return (
    <>
      <h1>Market</h1>
      <p class="lead">
        Capital pools underwrite the products. A pool sells cover while its utilisation and its capital requirement
        allow{pools.data ? ` — block ${pools.data.height}` : ""}.
      </p>
      <Show state={pools} what="the pools">
        {({ pools: list }) =>
          list.length === 0 ? (
            <Empty>No pools yet.</Empty>
          ) : (
            <div class="grid">
              {list.map((view) => (
                <PoolCard key={view.pool.id} view={view} all={list} history={history} productName={productName} />
              ))}
            </div>
          )
        }
      </Show>
    </>
  );
}

interface PoolCardProps {
  view: PoolView;
  all: PoolView[];
  history: Sample[];
  productName: (id: string) => string;
}

function PoolCard({ view, all, history, productName }: PoolCardProps) {
  const { pool } = view;
  const d = pool.denom;
  const covered = BigInt(view.capital || "0") >= BigInt(view.capital_requirement || "0");
  const cedents = all.filter((p) => p.pool.reinsurance && p.pool.reinsurance.reinsurer_pool_id === pool.id);
  const exposures = useAsync(() => chain.exposures(pool.id), [pool.id, pool.active_cover]);

  const points = history
    .map((s) => ({ height: s.height, v: s.pools.find((p) => p.pool.id === pool.id) }))
    .filter((p): p is { height: number; v: PoolView } => !!p.v);
  const scale = 10 ** denomInfo(d).decimals;

  return (
    <Card
      testid={`pool-${pool.id}`}
      title={
        <>
          <span class="muted">#{pool.id}</span> {pool.name}
        </>
      }
      actions={
        pool.selling ? (
          <Badge tone="good">sales open</Badge>
        ) : (
          <Badge tone="bad">sales stopped: {stopReason(view, covered)}</Badge>
        )
      }
    >
      <div class="stats">
        <Stat label="Capital" value={amount(view.capital, d, 0)} />
        <Stat label="Capacity" value={amount(view.capacity, d, 0)} hint={`leverage ${bps(pool.leverage_bps)}`} />
        <Stat label="Active cover" value={amount(pool.active_cover, d, 0)} />
        <Stat label="Utilisation" value={bps(view.utilisation_bps)} hint="active cover / capacity" />
        <Stat
          label="Capital requirement"
          value={amount(view.capital_requirement, d, 0)}
          hint={`capital covers ${ratio(view.capital, view.capital_requirement)} of the requirement`}
        />
        <Stat
          label="Share price"
          value={Number(view.share_price)
            .toFixed(6)
            .replace(/\.?0+$/, "")}
        />
      </div>
      <div class="bar" title={`utilisation ${bps(view.utilisation_bps)}`}>
        <div class="bar-fill" style={{ width: `${Math.min(100, view.utilisation_bps / 100)}%` }} />
      </div>
      <dl class="terms">
        <dt>Underwrites</dt>
        <dd>
          {pool.products.length === 0
            ? "no products (a reinsurer)"
            : pool.products
                .map((p) => `#${p.product_id} ${productName(p.product_id)} (${bps(p.weight_bps)})`)
                .join(", ")}
        </dd>
        <dt>Reinsurance</dt>
        <dd>
          {pool.reinsurance && pool.reinsurance.reinsurer_pool_id !== "0" ? cession(pool.reinsurance, d, all) : "none"}
        </dd>
        {cedents.length > 0 && (
          <>
            <dt>Reinsures</dt>
            <dd>{cedents.map((c) => `#${c.pool.id} ${c.pool.name}`).join(", ")}</dd>
          </>
        )}
        <dt>Cash / unearned premium</dt>
        <dd>
          {amount(pool.cash, d, 0)} / {amount(pool.unearned_premium, d, 0)}
        </dd>
      </dl>
      {exposures.data && exposures.data.exposures.length > 0 && (
        <table class="table compact">
          <thead>
            <tr>
              <th>Product</th>
              <th class="num">Gross exposure</th>
              <th class="num">Net of reinsurance</th>
            </tr>
          </thead>
          <tbody>
            {exposures.data.exposures.map((e) => (
              <tr key={e.product_id}>
                <td>
                  #{e.product_id} {productName(e.product_id)}
                </td>
                <td class="num">{amount(e.gross, d, 0)}</td>
                <td class="num">{amount(e.net, d, 0)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <PoolPosition pool={pool} />
      <h3>Over recent blocks</h3>
      <div class="charts">
        <Chart
          testid={`pool-chart-${pool.id}`}
          x={points.map((p) => p.height)}
          xLabel="height"
          xFormat={(v) => String(Math.round(v))}
          compact
          ys={[points.map((p) => Number(p.v.capital) / scale)]}
          lines={[
            {
              label: `Capital (${denomInfo(d).symbol})`,
              format: (v) => v.toLocaleString(undefined, { maximumFractionDigits: 0 }),
            },
          ]}
          height={160}
        />
        <Chart
          x={points.map((p) => p.height)}
          xLabel="height"
          xFormat={(v) => String(Math.round(v))}
          compact
          ys={[points.map((p) => p.v.utilisation_bps / 100)]}
          lines={[{ label: "Utilisation", format: (v) => `${Number(v.toFixed(2))}%`, color: "#d97706" }]}
          yMin={0}
          height={160}
        />
      </div>
    </Card>
  );
}

/** Why a pool sells no cover: its capital is below its requirement, or its capacity is used up. */
function stopReason(view: PoolView, covered: boolean): string {
  if (!covered) return "capital below requirement";
  if (view.utilisation_bps >= 10000) return "capacity used up";
  return "closed";
}

function cession(r: NonNullable<PoolView["pool"]["reinsurance"]>, denom: string, all: PoolView[]): string {
  const reinsurer = all.find((p) => p.pool.id === r.reinsurer_pool_id);
  const to = `pool #${r.reinsurer_pool_id}${reinsurer ? ` ${reinsurer.pool.name}` : ""}`;
  const parts: string[] = [];
  if (r.quota_share_bps) parts.push(`${bps(r.quota_share_bps)} quota share`);
  if (r.xol_limit && r.xol_limit !== "0")
    parts.push(
      `excess of loss ${amount(r.xol_limit, denom, 0)} over ${amount(r.xol_retention, denom, 0)} per incident (premium ${bps(r.xol_premium_bps)})`,
    );
  return `cedes to ${to}: ${parts.join("; ") || "nothing"}`;
}
