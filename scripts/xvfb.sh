# Sourced by scripts/desktop-test.sh and bench/desktop.sh: a private virtual X display.
#
#   source scripts/xvfb.sh
#   start_xvfb          # exports DISPLAY, sets XVFB_PID; stop_xvfb runs on EXIT
#
# Picks the first free display number from :90 on, so parallel runs on one machine do not collide.

XVFB_PID=""
XVFB_LOG=""

stop_xvfb() {
    if [[ -n "$XVFB_PID" ]]; then
        kill "$XVFB_PID" 2>/dev/null || true
        wait "$XVFB_PID" 2>/dev/null || true
        XVFB_PID=""
    fi
    [[ -n "$XVFB_LOG" ]] && rm -f "$XVFB_LOG"
}

start_xvfb() {
    XVFB_LOG="$(mktemp)"
    trap stop_xvfb EXIT
    local n
    for n in $(seq 90 160); do
        [[ -e "/tmp/.X11-unix/X$n" || -e "/tmp/.X$n-lock" ]] && continue
        Xvfb ":$n" -screen 0 1400x900x24 -nolisten tcp >"$XVFB_LOG" 2>&1 &
        XVFB_PID=$!
        for _ in $(seq 100); do
            [[ -S "/tmp/.X11-unix/X$n" ]] && break
            kill -0 "$XVFB_PID" 2>/dev/null || break
            sleep 0.05
        done
        if [[ -S "/tmp/.X11-unix/X$n" ]] && kill -0 "$XVFB_PID" 2>/dev/null; then
            export DISPLAY=":$n"
            echo "Xvfb on $DISPLAY (pid $XVFB_PID)"
            return 0
        fi
        # Another Xvfb took this number meanwhile: try the next one.
        kill "$XVFB_PID" 2>/dev/null || true
        wait "$XVFB_PID" 2>/dev/null || true
        XVFB_PID=""
    done
    echo "cannot start Xvfb on any display from :90 to :160:" >&2
    cat "$XVFB_LOG" >&2
    return 1
}
