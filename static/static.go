// Package static holds the stylesheet, scripts and images, embedded in the
// binary and served under paths that change when their content does, so
// browsers may cache them for ever.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
)

//go:embed *.css *.js *.svg
var files embed.FS

// hashes maps each file name to a short digest of its content.
var hashes = func() map[string]string {
	m := map[string]string{}
	names, _ := fs.Glob(files, "*")
	for _, name := range names {
		b, _ := files.ReadFile(name)
		sum := sha256.Sum256(b)
		m[name] = hex.EncodeToString(sum[:6])
	}
	return m
}()

// Path returns the cache-busting URL path of a file, e.g.
// /static/3f2a9c01b2d4/app.css.
func Path(name string) string {
	h, ok := hashes[name]
	if !ok {
		panic("static: no file " + name)
	}
	return "/static/" + h + "/" + name
}

// Open returns a file when hash is its current digest.
func Open(hash, name string) ([]byte, bool) {
	if hashes[name] != hash {
		return nil, false
	}
	b, err := files.ReadFile(name)
	return b, err == nil
}
