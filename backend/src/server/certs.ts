import fs from "node:fs";
import path from "node:path";

/** Paths of the development TLS files under a certificates folder. */
export interface DevCerts {
  /** The development CA that signed the localhost certificate (trust it to avoid browser warnings). */
  ca: string;
  cert: string;
  key: string;
}

/**
 * Makes development certificates for `localhost` under `dir` when they are missing, with
 * office-addin-dev-certs' generate API (offline). They are never installed into a system store:
 * to trust them, import `ca.crt` yourself (see the README).
 */
export async function ensureDevCerts(dir: string): Promise<DevCerts> {
  const files: DevCerts = {
    ca: path.join(dir, "ca.crt"),
    cert: path.join(dir, "localhost.crt"),
    key: path.join(dir, "localhost.key"),
  };
  if (fs.existsSync(files.cert) && fs.existsSync(files.key)) return files;
  fs.mkdirSync(dir, { recursive: true });
  const { generateCertificates } = require("office-addin-dev-certs/lib/generate") as {
    generateCertificates(ca: string, cert: string, key: string, days: number, domains: string[]): Promise<void>;
  };
  await generateCertificates(files.ca, files.cert, files.key, 365, ["localhost", "127.0.0.1"]);
  return files;
}
