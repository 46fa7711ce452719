"""Run by the real ROOT's Python (PyROOT), not by the test suite's: entries, the RDataFrame sum of every branch
(jagged branches through ROOT::VecOps::Sum) and the contents of every TH1D/TH2D of a ROOT file, as JSON."""

import json
import sys

import ROOT

path = sys.argv[1]
f = ROOT.TFile.Open(path)
out = {"entries": None, "sums": {}, "hists": {}}
tree = f.Get("events")
if tree:
    out["entries"] = int(tree.GetEntries())
    df = ROOT.RDataFrame("events", path)
    results = {}
    for name in [str(b.GetName()) for b in tree.GetListOfBranches()]:
        typ = str(df.GetColumnType(name))
        if "RVec" in typ or "[]" in typ or "vector" in typ:
            col = f"_sum_{name}"
            df = df.Define(col, f"ROOT::VecOps::Sum(ROOT::VecOps::RVec<double>({name}.begin(), {name}.end()))")
            results[name] = df.Sum(col)
        elif typ == "bool" or typ == "Bool_t":
            col = f"_as_int_{name}"
            df = df.Define(col, f"(double){name}")
            results[name] = df.Sum(col)
        else:
            results[name] = df.Sum(name)
    out["sums"] = {k: float(v.GetValue()) for k, v in results.items()}
for key in f.GetListOfKeys():
    obj = key.ReadObj()
    if obj.InheritsFrom("TH2"):
        nx, ny = obj.GetNbinsX(), obj.GetNbinsY()
        out["hists"][key.GetName()] = [[obj.GetBinContent(i, j) for j in range(1, ny + 1)] for i in range(1, nx + 1)]
    elif obj.InheritsFrom("TH1"):
        out["hists"][key.GetName()] = [obj.GetBinContent(i) for i in range(1, obj.GetNbinsX() + 1)]
print(json.dumps(out))
