#!/usr/bin/env bash
# Regenerates test/support/momento-gen/ from proto/momento/*.proto with the pinned @bufbuild/buf and
# @bufbuild/protoc-gen-es (devDependencies; no network needed).
#
# The .proto files are copied verbatim from github.com/momentohq/client-protos (proto/token.proto,
# proto/permissionmessages.proto; see proto/momento/SOURCE). To update: copy the new versions there, note the
# commit in SOURCE, run this script, then `npx jest test/unit/momento-wire.test.ts` (byte equality with
# @gomomento/generated-types) and the integration tests.
set -euo pipefail
cd "$(dirname "$0")/../proto"
rm -rf ../test/support/momento-gen
npx --no-install buf generate
# protoc-gen-es opens each file with /* eslint-disable */; the code passes our lint rules, so lint it like ours.
sed -i '/^\/\* eslint-disable \*\/$/d' ../test/support/momento-gen/*.ts
npx --no-install prettier --write ../test/support/momento-gen >/dev/null
echo "generated: $(ls ../test/support/momento-gen | tr '\n' ' ')"
