package mini_test

import (
	gocontext "context"
	"fmt"
	"io"
	"sort"
	"testing"
	"time"

	"github.com/visreft/visreft/sdk/backend"
	. "github.com/visreft/visreft/sdk/experiment"
	"github.com/visreft/visreft/sdk/train"
)

// BenchmarkPrefixSweep measures the frozen-prefix cache on Figure 5's demo
// sweep: LoReFT rank 6 on layers k..7 of visreft-mini for k = 0, 2, 4, 6,
// 64 training examples, batch 4, one epoch, trained through the whole
// model (image features cached, as the preset does) and from one prefix
// cache advanced up the sweep, side by side (k by k, plain then cached). It
// reports the median step time per k either way and the sweep's training
// wall time, the cache's own passes included on the cached side:
//
//	go test ./sdk/mini -run - -bench PrefixSweep -benchtime 1x
func BenchmarkPrefixSweep(b *testing.B) {
	newModel := miniModel(b)
	d := miniData(b, 64, 4)
	be, err := backend.NewFromConfig(backend.CPUConfig)
	if err != nil {
		b.Fatal(err)
	}
	model, err := newModel()
	if err != nil {
		b.Fatal(err)
	}
	fc, err := NewFeatureCacheWith(be, model, Images(d.Train), FeatureOptions{})
	if err != nil {
		b.Fatal(err)
	}
	run := func(k int, pc *PrefixCache) (median, total time.Duration) {
		m := PaperReFT(6, fmt.Sprintf("%d-7", k))
		var last time.Duration
		var steps []time.Duration
		m.Train.Progress, m.Train.BatchSize = io.Discard, 4
		m.Train.OnStep = func(s train.StepInfo) {
			if s.Step > 1 { // the first step compiles
				steps = append(steps, s.Elapsed-last)
			}
			last = s.Elapsed
		}
		res, err := Run(gocontext.Background(), be, newModel, d, m, Options{Seed: 1, SkipEval: true, Features: fc, Prefix: pc})
		if err != nil {
			b.Fatal(err)
		}
		sort.Slice(steps, func(i, j int) bool { return steps[i] < steps[j] })
		return steps[len(steps)/2], time.Duration(res.TrainSeconds * float64(time.Second))
	}
	for b.Loop() {
		var plainSweep, cachedSweep time.Duration
		var pc *PrefixCache
		for _, k := range []int{0, 2, 4, 6} {
			plainStep, plainTotal := run(k, nil)
			start := time.Now()
			po := PrefixOptions{Prompt: d.PromptOptions(), Features: fc}
			if pc == nil {
				pc, err = NewPrefixCache(be, model, d.Train, k, po)
			} else {
				err = pc.Advance(be, model, d.Train, k, po)
			}
			if err != nil {
				b.Fatal(err)
			}
			cacheTime := time.Since(start)
			cachedStep, cachedTotal := run(k, pc)
			plainSweep += plainTotal
			cachedSweep += cacheTime + cachedTotal
			b.Logf("k=%d: median step %v whole model, %v from the cache (%.2fx); cache pass %v; run %v vs %v",
				k, plainStep.Round(time.Millisecond), cachedStep.Round(time.Millisecond), plainStep.Seconds()/cachedStep.Seconds(),
				cacheTime.Round(time.Millisecond), plainTotal.Round(time.Millisecond), cachedTotal.Round(time.Millisecond))
			b.ReportMetric(plainStep.Seconds()/cachedStep.Seconds(), fmt.Sprintf("k%d-step-x", k))
		}
		b.Logf("sweep (4 runs, training only): %v whole model, %v with the prefix cache (%.2fx)",
			plainSweep.Round(time.Millisecond), cachedSweep.Round(time.Millisecond), plainSweep.Seconds()/cachedSweep.Seconds())
		b.ReportMetric(plainSweep.Seconds()/cachedSweep.Seconds(), "sweep-x")
	}
}
