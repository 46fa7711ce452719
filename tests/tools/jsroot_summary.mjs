// Independent ROOT reader check: JSROOT opens a file and prints, as JSON, the entries of a TTree,
// the sum of every branch (jagged branches summed over all their elements) and a TObjString.
// Usage: node jsroot_summary.mjs FILE [TREE] [OBJSTRING]
import { openFile } from 'jsroot/io';
import { TSelector, treeProcess } from 'jsroot/tree';

const [file_name, tree_name = 'events', str_name = 'metadata'] = process.argv.slice(2);
const file = await openFile(file_name);
const tree = await file.readObject(tree_name);
const names = tree.fBranches.arr.map(b => b.fName);
const sums = Object.fromEntries(names.map(n => [n, 0]));
let entries = 0;
const sel = new TSelector();
for (const n of names) sel.addBranch(n);
sel.Process = function () {
  entries += 1;
  for (const n of names) {
    const v = this.tgtobj[n];
    if (Array.isArray(v) || ArrayBuffer.isView(v)) { for (const x of v) sums[n] += Number(x); }
    else sums[n] += Number(v);
  }
};
await treeProcess(tree, sel);
let text = null;
try { text = (await file.readObject(str_name)).fString; } catch (e) { text = null; }
console.log(JSON.stringify({ entries, tree_entries: tree.fEntries, sums, objstring: text }));
