#!/usr/bin/env bash
# `keel` run from the TypeScript sources (tests need no build): scripts take it as KEEL_BIN.
exec node --import tsx "$(dirname "$0")/../../src/cli/main.ts" "$@"
