// Compiles Surety's own .proto files (and what they import from proto/third_party) into one JSON
// descriptor, src/gen/proto.json, that the app loads with protobufjs/light: the Msg types it signs
// and the query types it reads. No protoc: protobufjs parses the files itself.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";

const web = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const protoRoot = resolve(web, "../proto");
// google/protobuf/*.proto (descriptor.proto for the options) ship with protobufjs.
const includes = [protoRoot, join(protoRoot, "third_party"), join(web, "node_modules/protobufjs")];
const modules = ["pool", "policy", "claims", "oracle"];

const files = modules.flatMap((m) => {
  const dir = join(protoRoot, "surety", m, "v1");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".proto"))
    .map((f) => `surety/${m}/v1/${f}`);
});

const root = new protobuf.Root();
// Imports resolve against proto/, then proto/third_party/, then protobufjs's own copies.
root.resolvePath = (_origin, target) => includes.map((dir) => join(dir, target)).find(existsSync) ?? target;
await root.load(files, { keepCase: true });
root.resolveAll();

// Only the surety package goes into the app; the types it references from elsewhere (Coin,
// PageRequest…) are copied along by walking the references.
const out = new protobuf.Root();
const wanted = new Set();
const visit = (type) => {
  if (!type || wanted.has(type.fullName)) return;
  wanted.add(type.fullName);
  if (type instanceof protobuf.Type) {
    for (const field of type.fieldsArray) visit(field.resolvedType);
  }
};
for (const m of modules) {
  const ns = root.lookup(`surety.${m}.v1`);
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Type || nested instanceof protobuf.Enum) visit(nested);
  }
}
for (const name of [...wanted].sort()) {
  const type = root.lookup(name);
  const path = name.replace(/^\./, "").split(".");
  const parent = out.define(path.slice(0, -1).join("."));
  parent.add(
    type instanceof protobuf.Type
      ? protobuf.Type.fromJSON(type.name, stripOptions(type.toJSON()))
      : protobuf.Enum.fromJSON(type.name, type.toJSON()),
  );
}

function stripOptions(json) {
  // Field options (gogoproto, cosmos_proto, amino) mean nothing to the wire format.
  const fields = Object.fromEntries(
    Object.entries(json.fields ?? {}).map(([name, f]) => [name, { ...f, options: undefined }]),
  );
  return { ...json, options: undefined, nested: undefined, fields };
}

const target = join(web, "src/gen/proto.json");
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, JSON.stringify(out.toJSON({ keepComments: false })) + "\n");
console.log(`proto: ${wanted.size} types from ${files.length} files → ${target}`);
