// Oracle prices: a chart per feed with the products' trigger thresholds drawn; incidents with
// their attestations.
import { useState } from "preact/hooks";
import * as chain from "../api/chain";
import type { Incident, Product } from "../api/types";
import { Chart, type Threshold } from "../components/Chart";
import { Badge, Card, Empty, Show, Stat } from "../components/ui";
import { bps, coin, duration, enumName, short, time } from "../format";
import { REFRESH_MS, useAsync } from "../hooks";

export function Oracle() {
  const state = useAsync(
    async () => {
      const [params, latest, products] = await Promise.all([chain.oracleParams(), chain.prices(), chain.products()]);
      const feeds = [...new Set([...params.feeds, ...latest.map((p) => p.feed)])];
      const histories = await Promise.all(feeds.map((f) => chain.priceHistory(f, 200).catch(() => [])));
      return { params, latest, products, feeds, histories };
    },
    [],
    REFRESH_MS,
  );

  return (
    <>
      <h1>Oracle</h1>
      <Show state={state} what="the oracle">
        {({ params, latest, products, feeds, histories }) => (
          <>
            <p class="lead">
              Validators vote prices in their vote extensions; the chain keeps the stake-weighted median. Incidents are
              confirmed by {bps(params.min_power_bps)} of the voting power within{" "}
              {duration(params.attestation_window_secs)}.
            </p>
            <div class="grid">
              {feeds.map((feed, i) => (
                <FeedCard
                  key={feed}
                  feed={feed}
                  latest={latest.find((p) => p.feed === feed)?.price}
                  history={histories[i]}
                  products={products}
                />
              ))}
            </div>
          </>
        )}
      </Show>
      <Incidents />
    </>
  );
}

/** `1.000000000000000000` → `1`, `3000.123456789` → `3 000.123457`. */
function price(dec: string): string {
  return Number(dec).toLocaleString("en-US", { maximumFractionDigits: 6 }).replace(/,/g, " ");
}

function thresholdsFor(feed: string, products: Product[]): Threshold[] {
  const out: Threshold[] = [];
  for (const p of products) {
    const t = p.trigger;
    if (!t || t.feed !== feed) continue;
    if (t.threshold && Number(t.threshold) > 0)
      out.push({ value: Number(t.threshold), label: `#${p.id} ${p.name}: trigger ${t.threshold}` });
    if (t.floor && Number(t.floor) > 0)
      out.push({ value: Number(t.floor), label: `#${p.id} floor ${t.floor}`, color: "#7c3aed", keepInView: false });
  }
  return out;
}

function FeedCard(props: {
  feed: string;
  latest?: string;
  history: { price: string; time: string; height: string }[];
  products: Product[];
}) {
  const points = [...props.history].sort((a, b) => Number(a.time) - Number(b.time));
  const thresholds = thresholdsFor(props.feed, props.products);
  const ilProducts = props.products.filter((p) => p.trigger?.feed === props.feed && p.trigger.il_threshold_bps);
  return (
    <Card title={props.feed} testid={`feed-${props.feed}`}>
      <div class="stats">
        <Stat label="Price" value={props.latest ? price(props.latest) : "no price yet"} />
        <Stat label="Samples" value={points.length} />
        {points.length > 0 && <Stat label="Last update" value={`block ${points[points.length - 1].height}`} />}
      </div>
      <Chart
        testid={`feed-chart-${props.feed}`}
        time
        x={points.map((p) => Number(p.time))}
        ys={[points.map((p) => Number(p.price))]}
        lines={[{ label: props.feed, format: (v) => price(String(v)) }]}
        thresholds={thresholds}
        height={200}
      />
      {ilProducts.map((p) => (
        <p key={p.id} class="muted small">
          #{p.id} {p.name}: pays impermanent loss over {bps(p.trigger!.il_threshold_bps)} from each policy's entry
          price.
        </p>
      ))}
    </Card>
  );
}

const INCIDENT_TONE: Record<string, "info" | "good" | "bad" | "neutral"> = {
  INCIDENT_STATUS_PENDING: "info",
  INCIDENT_STATUS_CONFIRMED: "good",
  INCIDENT_STATUS_REJECTED: "bad",
};

function Incidents() {
  const list = useAsync(() => chain.incidents(), [], REFRESH_MS);
  const [open, setOpen] = useState<string>();
  return (
    <>
      <h2 class="section">Incidents</h2>
      <Show state={list} what="incidents">
        {(incidents) =>
          incidents.length === 0 ? (
            <Empty>No incident reported.</Empty>
          ) : (
            <table class="table" data-testid="incidents">
              <thead>
                <tr>
                  <th>#</th>
                  <th>Protocol</th>
                  <th>Description</th>
                  <th>Status</th>
                  <th class="num">Yes / no power</th>
                  <th>Deadline</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {[...incidents].reverse().map((i) => (
                  <IncidentRow
                    key={i.id}
                    incident={i}
                    open={open === i.id}
                    toggle={() => setOpen(open === i.id ? undefined : i.id)}
                  />
                ))}
              </tbody>
            </table>
          )
        }
      </Show>
    </>
  );
}

function IncidentRow({ incident: i, open, toggle }: { incident: Incident; open: boolean; toggle: () => void }) {
  return (
    <>
      <tr>
        <td>{i.id}</td>
        <td>{i.protocol}</td>
        <td>
          {i.description}
          <div class="muted small">
            at {time(i.time)} · reported by {short(i.reporter)} · bond {coin(i.bond)}
          </div>
        </td>
        <td>
          <Badge tone={INCIDENT_TONE[i.status] ?? "neutral"}>{enumName(i.status, "INCIDENT_STATUS_")}</Badge>
        </td>
        <td class="num">
          {i.yes_power} / {i.no_power}
        </td>
        <td>{time(i.deadline)}</td>
        <td>
          <button type="button" class="btn btn-link" onClick={toggle}>
            {open ? "hide" : "attestations"}
          </button>
        </td>
      </tr>
      {open && (
        <tr>
          <td colSpan={7}>
            <Attestations id={i.id} />
          </td>
        </tr>
      )}
    </>
  );
}

function Attestations({ id }: { id: string }) {
  const detail = useAsync(() => chain.incident(id), [id], REFRESH_MS);
  return (
    <Show state={detail} what="attestations">
      {({ attestations }) =>
        attestations.length === 0 ? (
          <span class="muted" data-testid="attestations">
            No attestation yet.
          </span>
        ) : (
          <ul class="plain" data-testid="attestations">
            {attestations.map((a) => (
              <li key={a.validator}>
                <code>{validatorHex(a.validator)}</code> {a.confirm ? "confirms" : "denies"}
              </li>
            ))}
          </ul>
        )
      }
    </Show>
  );
}

/** Attestations name the validator by consensus address bytes (base64 in JSON); hex reads like CometBFT's. */
function validatorHex(b64: string): string {
  try {
    return Array.from(atob(b64), (c) => c.charCodeAt(0).toString(16).padStart(2, "0"))
      .join("")
      .toUpperCase();
  } catch {
    return b64;
  }
}
