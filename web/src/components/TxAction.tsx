// A button that signs and broadcasts, with its progress and any error right beside it.
import type { EncodeObject } from "@cosmjs/proto-signing";
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import type { Committed, Stage } from "../api/msgs";
import type { Wallet } from "../api/wallet";
import { asError } from "../hooks";
import { useSession } from "../session";

const STAGE_TEXT: Record<Stage, string> = {
  preparing: "reading account…",
  simulating: "estimating gas…",
  signing: "waiting for signature…",
  broadcasting: "broadcasting…",
  waiting: "waiting for block…",
  done: "committed",
};

type State =
  | { kind: "idle" }
  | { kind: "running"; stage: Stage; detail?: string }
  | { kind: "done"; tx: Committed; note?: string }
  | { kind: "error"; error: Error };

export interface TxActionProps {
  label: ComponentChildren;
  /** The messages to send, built from the signed-in wallet; throw an Error to refuse (bad input). */
  build: (wallet: Wallet) => EncodeObject[];
  /** Called once the tx is in a block; may return a line to show (e.g. "policy #3"). */
  onDone?: (tx: Committed) => string | void;
  disabled?: boolean;
  tone?: "primary" | "secondary" | "danger";
  testid?: string;
}

export function TxAction(props: TxActionProps) {
  const { wallet, committed } = useSession();
  const [state, setState] = useState<State>({ kind: "idle" });
  // Counts attempts, so a watcher (the browser test) can tell this outcome from the last one.
  const [runs, setRuns] = useState(0);
  const busy = state.kind === "running";

  async function run() {
    if (!wallet) return;
    setRuns((n) => n + 1);
    try {
      const msgs = props.build(wallet);
      setState({ kind: "running", stage: "preparing" });
      const { signAndBroadcast } = await import("../api/tx");
      const tx = await signAndBroadcast(wallet, msgs, (stage, detail) => setState({ kind: "running", stage, detail }));
      const note = props.onDone?.(tx) ?? undefined;
      setState({ kind: "done", tx, note });
      committed();
    } catch (e) {
      setState({ kind: "error", error: asError(e) });
    }
  }

  return (
    <div class="tx-action" data-testid={props.testid} data-runs={runs}>
      <button
        type="button"
        class={`btn btn-${props.tone ?? "primary"}`}
        disabled={!wallet || busy || props.disabled}
        title={wallet ? undefined : "Choose an account to sign with (top right)"}
        onClick={run}
      >
        {props.label}
      </button>
      {wallet ? <TxStatus state={state} /> : <span class="muted small">sign in (top right) to send</span>}
    </div>
  );
}

function TxStatus({ state }: { state: State }) {
  switch (state.kind) {
    case "idle":
      return null;
    case "running":
      return (
        <span class="tx-status tx-running" data-state="running">
          <span class="spinner" aria-hidden="true" />
          {STAGE_TEXT[state.stage]}
          {state.stage === "waiting" && state.detail && <code class="hash"> {state.detail.slice(0, 10)}…</code>}
        </span>
      );
    case "done":
      return (
        <span class="tx-status tx-done" data-state="done" title={state.tx.txhash}>
          ✓ in block {state.tx.height}
          {state.note ? ` — ${state.note}` : ""}
        </span>
      );
    case "error":
      return (
        <span class="tx-status tx-error error" data-state="error" role="alert">
          {state.error.message}
        </span>
      );
  }
}
