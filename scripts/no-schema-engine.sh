#!/bin/sh
# Stand-in for Prisma's native schema engine, which cannot be downloaded on these machines.
# `prisma generate` only needs the variable to point at an executable; migrations go through
# the WebAssembly engine instead (`npm run db:migrate`, `npm run db:diff`).
echo "onceql: Prisma's native schema engine is not installed; use npm run db:migrate / db:diff" >&2
exit 1
