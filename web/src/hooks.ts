import { useCallback, useEffect, useRef, useState } from "preact/hooks";

export interface Async<T> {
  data?: T;
  error?: Error;
  loading: boolean;
  reload: () => void;
}

/**
 * Runs `load` when `deps` change, again on `reload()`, and every `refreshMs` when given (keeping
 * the last data while it reloads, so live pages do not flicker).
 */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[], refreshMs?: number): Async<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const generation = useRef(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);

  useEffect(() => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => mine === generation.current && setState({ data, loading: false }),
      (error) =>
        mine === generation.current && setState((s) => ({ data: s.data, error: asError(error), loading: false })),
    );
  }, [...deps, tick]);

  useEffect(() => {
    if (!refreshMs) return;
    const id = setInterval(reload, refreshMs);
    return () => clearInterval(id);
  }, [refreshMs, reload]);

  return { ...state, reload };
}

export function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** A value that settles `ms` after its last change (for quotes while the user types). */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const id = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(id);
  }, [value, ms]);
  return settled;
}

/** How often live pages re-read the chain. */
export const REFRESH_MS = 6000;
