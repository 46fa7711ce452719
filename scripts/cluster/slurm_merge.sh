#!/bin/bash
# Merge step of a production (run after the array with --dependency=afterok:JOBID).
#   sbatch scripts/cluster/slurm_merge.sh /scratch/$USER/prod
#SBATCH --job-name=cevns-merge
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --time=02:00:00
#SBATCH --output=logs/%x_%j.log
set -euo pipefail
OUTDIR=${1:?production directory}
export TQDM_DISABLE=1
cevns-merge "$OUTDIR/events.h5" "$OUTDIR"/events_c*.h5
if ls "$OUTDIR"/detector_c*.h5 >/dev/null 2>&1; then
    cevns-merge "$OUTDIR/detector.h5" "$OUTDIR"/detector_c*.h5
    cevns-reco "$OUTDIR/detector.h5" -o "$OUTDIR/reco.h5"
fi
