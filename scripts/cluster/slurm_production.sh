#!/bin/bash
# SLURM job array for a whole production: each array task makes its units (generate -> detsim when the
# configuration has a [detector] table) into one shared directory; a dependent job merges and reconstructs.
#
#   sbatch --array=0-99 scripts/cluster/slurm_production.sh my_run.toml /scratch/$USER/prod 100000000
#   (then, once: sbatch --dependency=afterok:<array job id> scripts/cluster/slurm_merge.sh /scratch/$USER/prod)
#
# Re-submitting the same array after preemption or failures only redoes the missing units.
#SBATCH --job-name=cevns-prod
#SBATCH --cpus-per-task=1
#SBATCH --mem=2G
#SBATCH --time=04:00:00
#SBATCH --output=logs/%x_%A_%a.log
set -euo pipefail
CONFIG=${1:?configuration file}
OUTDIR=${2:?production directory}
NEVENTS=${3:?events of the whole production}
export NUMBA_NUM_THREADS=1
export NUMBA_CACHE_DIR=${NUMBA_CACHE_DIR:-$HOME/.cache/cevns-numba}   # compile once, reuse in every task
export TQDM_DISABLE=1                                                  # clean batch logs
cevns-produce "$CONFIG" -o "$OUTDIR" --n-events "$NEVENTS" --chunks-per-file 10 \
    --job-index auto --n-jobs "${SLURM_ARRAY_TASK_COUNT}" --quiet
