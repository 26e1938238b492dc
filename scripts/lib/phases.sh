# shellcheck shell=bash
# Where a run's time goes, for its last line (npm run bench reads it there).
#   phase NAME    ends the phase that began at the last mark (or at sourcing), naming it
#   phase_restart  the next phase begins now (time waiting for a "yes" is not counted)
#   timing        "in 15.3 s (checks, build and synth 2.2 s; plan 1.5 s; apply 11.2 s)": the phases so far
# Microseconds from EPOCHREALTIME, whatever the locale's decimal separator.
phases=() phase_start=${EPOCHREALTIME/[.,]/} phases_us=0
_phase_seconds() { printf '%d.%d s' $(($1 / 1000000)) $(($1 % 1000000 / 100000)); }
phase() {
  local now=${EPOCHREALTIME/[.,]/}
  phases_us=$((phases_us + now - phase_start))
  phases+=("$1 $(_phase_seconds $((now - phase_start)))")
  phase_start=$now
}
phase_restart() { phase_start=${EPOCHREALTIME/[.,]/}; }
timing() {
  local joined
  joined=$(printf '%s; ' "${phases[@]}")
  echo "in $(_phase_seconds "$phases_us") (${joined%; })"
}
