// The report, replayed with the OFREP client it was found with: the real
// @openfeature/ofrep-provider 0.1.3 in @openfeature/server-sdk, against the real server, next to
// the edgeflag server provider evaluating locally. Every flag (one with `/` and a space in its
// key among them), for users and for a context without a targeting key, must answer the same
// value, variant, reason and metadata through both: the key is not percent-encoded by that
// client, and a split flag without a unit serves the flag's default variation, not the
// caller's coded default (providers/README.md, "How answers map").
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { OpenFeature } from "@openfeature/server-sdk";
import { OFREPProvider } from "@openfeature/ofrep-provider";

import * as edgeflag from "../../wasm/pkg/node.js";
import { EdgeflagServerProvider } from "../../providers/js/src/server.js";
import { edgeflagMissing, edit, startEdgeflag } from "../js/edgeflag-server.mjs";

const TYPES = { boolean: "Boolean", string: "String", number: "Number", json: "Object" };
// Coded defaults no flag serves: an answer equal to them would be the SDK's fallback.
const CODED = { boolean: null, string: "coded-default", number: -12345, json: { coded: true } };
const SLASHED = "team/new checkout";

after(() => OpenFeature.close());

test("the OFREP client of the report and the local provider agree on every flag, `/` keys and missing targeting keys included", { skip: edgeflagMissing }, async () => {
  const server = await startEdgeflag(["--no-controller"]);
  try {
    const { file } = await server.publish(
      edit((f) => {
        const source = f.flags.find((x) => x.key === "payment-processor"); // a canary: a split
        f.flags.push({ ...structuredClone(source), key: SLASHED, description: "a key that needs encoding in a URL" });
      }),
    );
    await OpenFeature.setProviderAndWait("ofrep", new OFREPProvider({ baseUrl: server.base }));
    await OpenFeature.setProviderAndWait("local", new EdgeflagServerProvider({ engine: edgeflag, server: server.base, stream: false }));
    const ofrep = OpenFeature.getClient("ofrep");
    const local = OpenFeature.getClient("local");

    let compared = 0;
    let unitMissing = 0;
    for (const ctx of [{ targetingKey: "alice", email: "alice@example.com" }, { targetingKey: "user-42", country: "FR" }, { country: "FR" }]) {
      for (const flag of file.flags) {
        const get = `get${TYPES[flag.kind]}Details`;
        const coded = CODED[flag.kind] ?? !flag.variations.find((v) => v.name === flag.default_variation)?.value;
        const [remote, mine] = [await ofrep[get](flag.key, coded, ctx), await local[get](flag.key, coded, ctx)];
        const what = `${flag.key} ${JSON.stringify(ctx)}: ${JSON.stringify(remote)}`;
        assert.equal(remote.errorCode, undefined, what);
        assert.deepEqual([remote.value, remote.variant, remote.reason], [mine.value, mine.variant, mine.reason], what);
        assert.deepEqual({ ...remote.flagMetadata }, { ...mine.flagMetadata }, what);
        if (mine.flagMetadata.unitMissing) {
          unitMissing++;
          // The flag's default variation, not the caller's coded default.
          const dflt = flag.variations.find((v) => v.name === flag.default_variation);
          assert.deepEqual([remote.value, remote.variant, remote.reason], [dflt.value, dflt.name, "DEFAULT"], what);
          assert.notDeepEqual(remote.value, coded, what);
        }
        compared++;
      }
    }
    assert.ok(unitMissing >= 2, `split flags without a unit were compared (${unitMissing}), ${SLASHED} among them`);
    const slashed = await ofrep.getStringDetails(SLASHED, "coded-default", { targetingKey: "user-42" });
    assert.equal(slashed.errorCode, undefined, JSON.stringify(slashed));
    console.log(`OFREP client (@openfeature/ofrep-provider 0.1.3) and local provider: ${compared} answers equal, ${unitMissing} of them split flags without a unit`);
  } finally {
    await server.stop();
  }
});
