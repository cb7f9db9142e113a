//! The Lambda handlers. Each binary in `src/bin/` only wires one handler from here to the runtime.
