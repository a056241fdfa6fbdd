// Small shared pieces: cards, stats, badges, form fields, loading and error display.
import type { ComponentChildren } from "preact";
import type { Async } from "../hooks";

export function Card(props: {
  title?: ComponentChildren;
  actions?: ComponentChildren;
  children: ComponentChildren;
  class?: string;
  testid?: string;
}) {
  return (
    <section class={`card ${props.class ?? ""}`} data-testid={props.testid}>
      {(props.title || props.actions) && (
        <header class="card-head">
          <h2>{props.title}</h2>
          {props.actions && <div class="card-actions">{props.actions}</div>}
        </header>
      )}
      {props.children}
    </section>
  );
}

export function Stat(props: { label: string; value: ComponentChildren; hint?: string }) {
  return (
    <div class="stat" title={props.hint}>
      <div class="stat-label">{props.label}</div>
      <div class="stat-value">{props.value}</div>
    </div>
  );
}

export type Tone = "good" | "bad" | "warn" | "neutral" | "info";

export function Badge(props: { tone?: Tone; children: ComponentChildren }) {
  return <span class={`badge badge-${props.tone ?? "neutral"}`}>{props.children}</span>;
}

export function ErrorText(props: { error: unknown; prefix?: string }) {
  if (!props.error) return null;
  const message = props.error instanceof Error ? props.error.message : String(props.error);
  return (
    <div class="error" role="alert">
      {props.prefix ? `${props.prefix}: ` : ""}
      {message}
    </div>
  );
}

export function Field(props: { label: string; hint?: ComponentChildren; children: ComponentChildren }) {
  return (
    <label class="field">
      <span class="field-label">{props.label}</span>
      {props.children}
      {props.hint && <span class="field-hint">{props.hint}</span>}
    </label>
  );
}

/** Loading, error or the data of an async read. */
export function Show<T>(props: { state: Async<T>; what?: string; children: (data: T) => ComponentChildren }) {
  const { data, error, loading } = props.state;
  return (
    <>
      {error && <ErrorText error={error} prefix={`Could not read ${props.what ?? "the chain"}`} />}
      {data !== undefined ? props.children(data) : loading && !error ? <p class="muted">Loading…</p> : null}
    </>
  );
}

export function Empty(props: { children: ComponentChildren }) {
  return <p class="muted empty">{props.children}</p>;
}
