#!/bin/sh
# Rebuilds hello-go: a small Go program with one module dependency, example.com/greet,
# taken from a local directory through a `replace` directive (no network needed).
# Needs Debian's golang-go. Run from this directory: sh build.sh
set -eu
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/greet" "$work/hello"
cat > "$work/greet/go.mod" <<'MOD'
module example.com/greet

go 1.19
MOD
cat > "$work/greet/greet.go" <<'SRC'
package greet

// Hello returns a greeting.
func Hello(name string) string { return "hello, " + name }
SRC
cat > "$work/hello/go.mod" <<'MOD'
module example.com/hello

go 1.19

require example.com/greet v1.2.3

replace example.com/greet v1.2.3 => ../greet
MOD
cat > "$work/hello/main.go" <<'SRC'
package main

import (
	"os"

	"example.com/greet"
)

func main() { os.Stdout.WriteString(greet.Hello("world") + "\n") }
SRC
out=$(pwd)/hello-go
(cd "$work/hello" && GOFLAGS=-mod=mod GOPROXY=off GOCACHE="$work/cache" CGO_ENABLED=0 \
	go build -trimpath -buildvcs=false -ldflags='-s -w' -o "$out" .)
