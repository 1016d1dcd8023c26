// generated_prover.mts: a prover written on openapi-fetch against the types that
// openapi-typescript generates from api/openapi.yaml (./schema.js is that output), so that the
// contract is checked by people's own tools: the TypeScript compiler rejects a call the document
// does not allow, and the daemon answers what the document says. Run by
// tests/integration/t_generated_client.sh, which generates the types, compiles this file with
// tsc --strict and runs it with node.
//
// It claims jobs one at a time, downloads each witness with the claim's lease, and completes it
// with the reference proof ("WGREF1" || BLAKE2s-256 of the witness), except the first job, which
// it fails once (the daemon queues it again). It stops when batch BATCH is proven, or fails after
// DEADLINE_S seconds. Environment: WG_URL, PROVER_TOKEN, VIEWER_TOKEN, BATCH, DEADLINE_S.
// Prints one JSON line: {"proved": N, "failed": [job ids], "batch_status": "..."}.
import createClient from "openapi-fetch";
import { createHash } from "node:crypto";
import type { paths } from "./schema.js";

function env(name: string): string {
  const v = process.env[name];
  if (v === undefined || v === "") throw new Error(`${name} is not set`);
  return v;
}

const baseUrl = env("WG_URL");
const batch = Number(env("BATCH"));
const deadline = Date.now() + 1000 * Number(process.env.DEADLINE_S ?? "90");
const prover = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${env("PROVER_TOKEN")}` } });
const viewer = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${env("VIEWER_TOKEN")}` } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function referenceProof(witness: Uint8Array): Uint8Array {
  const digest = createHash("blake2s256").update(witness).digest();
  return Buffer.concat([Buffer.from("WGREF1", "ascii"), digest]);
}

async function batchStatus(): Promise<string> {
  const { data, error, response } = await viewer.GET("/batches/{n}", { params: { path: { n: batch } } });
  if (data === undefined) throw new Error(`GET /batches/${batch}: ${response.status} ${JSON.stringify(error)}`);
  return data.status;
}

async function main(): Promise<void> {
  let proved = 0;
  const failed: number[] = [];
  for (;;) {
    if (Date.now() > deadline) throw new Error(`batch ${batch} not proven in time (${proved} proved)`);
    const claim = await prover.POST("/jobs/claim", { body: { prover_id: "generated-client", protocol_version: 24 } });
    if (claim.response.status === 204) {
      const status = await batchStatus();
      if (status === "proven" || status === "failed") {
        console.log(JSON.stringify({ proved, failed, batch_status: status }));
        return;
      }
      await sleep(100);
      continue;
    }
    if (claim.data === undefined) throw new Error(`claim: ${claim.response.status} ${JSON.stringify(claim.error)}`);
    // Without "limit" the reply is one ClaimedJob; the type is the document's oneOf.
    if ("jobs" in claim.data) throw new Error("claim without limit answered a list");
    const job = claim.data;
    const lease = { "X-WG-Lease": job.lease };
    const path = { id: job.id };

    const witness = await prover.GET("/jobs/{id}/witness", { params: { path, header: lease }, parseAs: "arrayBuffer" });
    if (witness.data === undefined) throw new Error(`witness of ${job.id}: ${witness.response.status}`);
    if (witness.response.headers.get("content-type") !== "application/octet-stream")
      throw new Error(`witness of ${job.id}: content-type ${witness.response.headers.get("content-type")}`);

    if (failed.length === 0) {
      const fail = await prover.POST("/proofs/{id}/fail", {
        params: { path, header: lease },
        body: { error: "generated client: the first job is given back once" },
      });
      if (fail.data === undefined) throw new Error(`fail of ${job.id}: ${fail.response.status} ${JSON.stringify(fail.error)}`);
      if (fail.data.id !== job.id || fail.data.status !== "queued" || fail.data.attempts !== 1)
        throw new Error(`fail of ${job.id} answered ${JSON.stringify(fail.data)}`);
      failed.push(job.id);
      continue;
    }

    // The document types a binary body as a string; openapi-fetch would JSON-encode it, so the
    // raw bytes go through a serializer that passes them on as they are.
    const proof = referenceProof(new Uint8Array(witness.data));
    const done = await prover.POST("/proofs/{id}/complete", {
      params: { path, header: lease },
      body: proof as unknown as string,
      bodySerializer: (b: unknown) => b as BodyInit,
      headers: { "Content-Type": "application/octet-stream" },
    });
    if (done.data === undefined) throw new Error(`complete of ${job.id}: ${done.response.status} ${JSON.stringify(done.error)}`);
    if (done.data.id !== job.id || done.data.status !== "successful" || done.data.repeat)
      throw new Error(`complete of ${job.id} answered ${JSON.stringify(done.data)}`);
    proved++;
  }
}

main().catch((e: unknown) => {
  console.error(`generated_prover: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
