// Run a MicroPython script on the webassembly port (wasm32: 31-bit small ints, as on the RP2040).
//   node run.mjs REPO_ROOT SCRIPT [args...]
// The firmware package and the firmware test cases are copied into the port's in-memory
// filesystem under /repo; the script runs with sys.argv = [SCRIPT, "/repo", args...].
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

const [root, script, ...args] = process.argv.slice(2);
const HEAP_BYTES = 256 * 1024;   // of the order of the RP2040 port's GC heap (about 190 KB)
const mp = await loadMicroPython({
  heapsize: HEAP_BYTES,
  stdout: (line) => process.stdout.write(line + "\n"),
  stderr: (line) => process.stderr.write(line + "\n"),
});

function copyDir(src, dst) {
  mp.FS.mkdirTree(dst);
  for (const name of readdirSync(src)) {
    if (name.endsWith(".py")) mp.FS.writeFile(join(dst, name), readFileSync(join(src, name)));
  }
}
copyDir(join(root, "firmware_bridge"), "/repo/firmware_bridge");
copyDir(join(root, "tests/firmware_bridge"), "/repo/tests/firmware_bridge");
copyDir(join(root, "tests/firmware_bridge/fake_machine"), "/repo/tests/firmware_bridge/fake_machine");

const argv = JSON.stringify([script, "/repo", ...args]);
let code = 0;
try {
  mp.runPython(`import sys\nsys.argv[:] = ${argv}\n` + readFileSync(script, "utf8"));
} catch (err) {
  process.stderr.write(String(err) + "\n");
  code = 1;
}
process.exit(code);
