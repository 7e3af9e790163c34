package session

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkReader reads the full-session fixture, reporting events/s:
// "gzip" from the committed .jsonl.gz (decompression included), "plain"
// from its JSON Lines in memory, "raw" the same through NextRaw, as a
// replayer reads.
func BenchmarkReader(b *testing.B) {
	zipped, err := os.ReadFile(filepath.Join(fixtureDir, "rth-full.jsonl.gz"))
	if err != nil {
		b.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(zipped))
	if err != nil {
		b.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, data []byte, raw bool) {
		b.SetBytes(int64(len(plain)))
		b.ReportAllocs()
		var events int64
		for b.Loop() {
			r, err := NewReader(bytes.NewReader(data), "bench")
			if err != nil {
				b.Fatal(err)
			}
			for {
				if raw {
					_, _, err = r.NextRaw()
				} else {
					_, err = r.Next()
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				events++
			}
			r.Close()
		}
		b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	}
	b.Run("gzip", func(b *testing.B) { run(b, zipped, false) })
	b.Run("plain", func(b *testing.B) { run(b, plain, false) })
	b.Run("raw", func(b *testing.B) { run(b, plain, true) })
}

// BenchmarkValidate validates the full-session fixture's JSON Lines.
func BenchmarkValidate(b *testing.B) {
	zipped, err := os.ReadFile(filepath.Join(fixtureDir, "rth-full.jsonl.gz"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(zipped)))
	var events int64
	for b.Loop() {
		st, ps := ValidateStats(bytes.NewReader(zipped), "bench")
		if len(ps) > 0 {
			b.Fatal(ps[0])
		}
		events += st.Events
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkGenerate makes a full regular session.
func BenchmarkGenerate(b *testing.B) {
	var events int64
	for b.Loop() {
		g, err := newGenerator(io.Discard, Options{Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		if err := g.run(); err != nil {
			b.Fatal(err)
		}
		events += g.seq
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
