import { LocallySignedCert } from "@cdktf/provider-tls/lib/locally-signed-cert";
import { PrivateKey } from "@cdktf/provider-tls/lib/private-key";
import { TlsProvider } from "@cdktf/provider-tls/lib/provider";
import { SelfSignedCert } from "@cdktf/provider-tls/lib/self-signed-cert";
import { CertRequest } from "@cdktf/provider-tls/lib/cert-request";
import { Construct } from "constructs";

/**
 * The environment's own certificate authority, in Terraform state (hashicorp/tls, built from its
 * Go module into the local provider mirror by scripts/bootstrap.sh): a CA and the server
 * certificates it signs for the endpoints Prometheus reaches across machines (the fleet's
 * exporters) and for the stack's UIs when webAuth is on. Keys and certificates are created once and
 * kept in state, so a plan changes nothing until a certificate nears its end (early renewal:
 * then the plan replaces it, and the containers that hold it). State holds the private keys, as
 * it holds the passwords: the scripts keep it 0600 (docs/environments.md, Secrets).
 */

/** Validity of the CA (5 years) and of a server certificate (1 year), renewed 30 days before it ends. */
const CA_HOURS = 5 * 365 * 24;
const SERVER_HOURS = 365 * 24;
const EARLY_RENEWAL_HOURS = 30 * 24;

export interface ServerCertificate {
  /** PEM of the certificate (a Terraform reference). */
  readonly cert: string;
  /** PEM of its private key (a sensitive Terraform reference). */
  readonly key: string;
}

export class Pki extends Construct {
  private readonly provider: TlsProvider;
  private readonly caKey: PrivateKey;
  private readonly ca: SelfSignedCert;

  constructor(scope: Construct, id: string, environment: string) {
    super(scope, id);
    this.provider = new TlsProvider(this, "tls");
    this.caKey = new PrivateKey(this, "ca-key", { provider: this.provider, algorithm: "ECDSA", ecdsaCurve: "P256" });
    this.ca = new SelfSignedCert(this, "ca", {
      provider: this.provider,
      privateKeyPem: this.caKey.privateKeyPem,
      subject: [{ commonName: `protocol-monitoring ${environment} CA`, organization: "protocol-monitoring" }],
      isCaCertificate: true,
      validityPeriodHours: CA_HOURS,
      earlyRenewalHours: EARLY_RENEWAL_HOURS,
      allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
    });
  }

  /** PEM of the CA certificate, which clients (Prometheus, Grafana, you) check servers against. */
  get caPem(): string {
    return this.ca.certPem;
  }

  /** A server certificate for the given DNS names and IP addresses (its subject alternative names). */
  server(id: string, commonName: string, names: { dns: readonly string[]; ips: readonly string[] }): ServerCertificate {
    return this.sign(id, commonName, names, "server_auth");
  }

  /** A client certificate (TLS client authentication: a log shipper's to Logstash). */
  client(id: string, commonName: string): ServerCertificate {
    return this.sign(id, commonName, { dns: [], ips: [] }, "client_auth");
  }

  private sign(id: string, commonName: string, names: { dns: readonly string[]; ips: readonly string[] }, use: "server_auth" | "client_auth"): ServerCertificate {
    const scope = new Construct(this, id);
    const key = new PrivateKey(scope, "key", { provider: this.provider, algorithm: "ECDSA", ecdsaCurve: "P256" });
    const request = new CertRequest(scope, "request", {
      provider: this.provider,
      privateKeyPem: key.privateKeyPem,
      subject: [{ commonName }],
      dnsNames: [...names.dns],
      ipAddresses: [...names.ips],
    });
    const cert = new LocallySignedCert(scope, "cert", {
      provider: this.provider,
      certRequestPem: request.certRequestPem,
      caPrivateKeyPem: this.caKey.privateKeyPem,
      caCertPem: this.ca.certPem,
      validityPeriodHours: SERVER_HOURS,
      earlyRenewalHours: EARLY_RENEWAL_HOURS,
      allowedUses: ["digital_signature", "key_encipherment", use],
    });
    return { cert: cert.certPem, key: key.privateKeyPem };
  }
}
