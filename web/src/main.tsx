import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import * as chain from "./api/chain";
import { restBase } from "./api/rest";
import type { Wallet } from "./api/wallet";
import { AccountBar } from "./components/AccountBar";
import { useAsync } from "./hooks";
import { Assessors } from "./pages/Assessors";
import { Governance } from "./pages/Governance";
import { Market } from "./pages/Market";
import { MyCover } from "./pages/MyCover";
import { Oracle } from "./pages/Oracle";
import { Products } from "./pages/Products";
import { Risk } from "./pages/Risk";
import { SessionContext } from "./session";
import "./style.css";

const PAGES = [
  { path: "market", title: "Market", page: Market },
  { path: "products", title: "Products", page: Products },
  { path: "cover", title: "My cover", page: MyCover },
  { path: "assessors", title: "Assessors", page: Assessors },
  { path: "oracle", title: "Oracle", page: Oracle },
  { path: "governance", title: "Governance", page: Governance },
  { path: "risk", title: "Risk", page: Risk },
];

/** `#/products?rest=…` → `products`. */
function currentRoute(): string {
  const path = window.location.hash.replace(/^#\/?/, "").split("?")[0];
  return PAGES.some((p) => p.path === path) ? path : "market";
}

/** Keeps `?rest=` (when it was given in the hash) on every link. */
function href(path: string): string {
  const q = window.location.hash.split("?")[1];
  return `#/${path}${q ? `?${q}` : ""}`;
}

function App() {
  const [route, setRoute] = useState(currentRoute);
  const [wallet, setWallet] = useState<Wallet | null>(null);
  const [txCount, setTxCount] = useState(0);
  const info = useAsync(() => chain.nodeInfo(), []);

  useEffect(() => {
    const onHash = () => setRoute(currentRoute());
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);

  const Page = PAGES.find((p) => p.path === route)!.page;
  return (
    <SessionContext.Provider value={{ wallet, setWallet, txCount, committed: () => setTxCount((n) => n + 1) }}>
      <header class="top">
        <a class="brand" href={href("market")}>
          <svg viewBox="0 0 16 16" width="22" height="22" aria-hidden="true">
            <path d="M8 1 2 3.5V8c0 3.5 2.6 6.2 6 7 3.4-.8 6-3.5 6-7V3.5z" fill="currentColor" />
          </svg>
          Surety
        </a>
        <span class="chain" title={restBase()}>
          {info.data ? info.data.default_node_info.network : info.error ? "node unreachable" : "…"}
        </span>
        <nav>
          {PAGES.map((p) => (
            <a key={p.path} href={href(p.path)} class={p.path === route ? "active" : ""} data-testid={`nav-${p.path}`}>
              {p.title}
            </a>
          ))}
        </nav>
        <AccountBar />
      </header>
      <main data-testid={`page-${route}`}>
        <Page />
      </main>
    </SessionContext.Provider>
  );
}

render(<App />, document.getElementById("app")!);
