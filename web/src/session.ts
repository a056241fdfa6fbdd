// The signed-in wallet, shared by every page.
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Wallet } from "./api/wallet";

export interface Session {
  wallet: Wallet | null;
  setWallet: (w: Wallet | null) => void;
  /** Bumped after every committed tx, so pages reload what it changed. */
  txCount: number;
  committed: () => void;
}

export const SessionContext = createContext<Session>({
  wallet: null,
  setWallet: () => {},
  txCount: 0,
  committed: () => {},
});

export const useSession = () => useContext(SessionContext);
