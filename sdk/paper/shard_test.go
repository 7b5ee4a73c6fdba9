package paper

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"sync"
	"testing"

	"github.com/visreft/visreft/sdk/eval"
	"github.com/visreft/visreft/sdk/experiment"
)

// tinySetup is the demo preset cut to 8 training and 4 validation
// examples, two Figure 4 ranks and two Figure 5 points (all ReFT), scored
// by likelihood only, for the shard tests.
func tinySetup(t testing.TB, runs string, shard Shard) *Setup {
	t.Helper()
	s, err := NewSetup("demo", true)
	if err != nil {
		t.Fatal(err)
	}
	s.Data.Train, s.Data.Val = s.Data.Train[:8], s.Data.Val[:4]
	s.Ranks, s.Lowest, s.EvalTrain, s.Progress = []int{4, 6}, []int{1, 0}, -1, io.Discard
	s.EvalModes = []eval.Mode{eval.Likelihood}
	s.RunsDir, s.Shard = runs, shard
	return s
}

// TestShardHelper is not a test: TestShardsMatchOneProcess runs it as a
// separate process per shard.
func TestShardHelper(t *testing.T) {
	runs, shard := os.Getenv("VISREFT_SHARD_RUNS"), os.Getenv("VISREFT_SHARD")
	if runs == "" {
		t.Skip("runs only as TestShardsMatchOneProcess's child process")
	}
	sh, err := ParseShard(shard)
	if err != nil {
		t.Fatal(err)
	}
	s := tinySetup(t, runs, sh)
	if _, _, err := s.RankSweep(nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.LayerSweep(nil); err != nil {
		t.Fatal(err)
	}
	t.Logf("shard %s: missing %v", shard, s.Missing)
}

// TestShardsMatchOneProcess: two shard processes (-shard 0/2 and 1/2)
// writing into one shared runs folder at the same time produce the same run
// results as one process training everything; each shard trains only its
// share, and a figures-only setup then draws every figure from the stored
// runs, training nothing.
func TestShardsMatchOneProcess(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("VISREFT_CACHE", cache)
	one, shared := t.TempDir(), t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	out := make([][]byte, 3)
	for i, c := range []struct{ dir, shard string }{{one, ""}, {shared, "0/2"}, {shared, "1/2"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^TestShardHelper$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), "VISREFT_SHARD_RUNS="+c.dir, "VISREFT_SHARD="+c.shard, "VISREFT_CACHE="+cache)
			out[i], errs[i] = cmd.CombinedOutput()
		}()
		if i == 0 {
			wg.Wait() // the demo data is generated once, by the first process
		}
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("process %d: %v\n%s", i, err, out[i])
		}
	}
	a, b := readRuns(t, one), readRuns(t, shared)
	if len(a) != 4 || !reflect.DeepEqual(keys(a), keys(b)) {
		t.Fatalf("runs: one process %v, shards %v", keys(a), keys(b))
	}
	for k, ra := range a {
		rb := b[k]
		if !reflect.DeepEqual(ra.Losses, rb.Losses) || ra.ValAccuracy != rb.ValAccuracy ||
			!sameFloat(ra.TrainAccuracy, rb.TrainAccuracy) || !reflect.DeepEqual(ra.ValByProtocol, rb.ValByProtocol) {
			t.Errorf("%s differs: losses %v vs %v, val %v vs %v", k, ra.Losses, rb.Losses, ra.ValByProtocol, rb.ValByProtocol)
		}
	}
	s := tinySetup(t, shared, Shard{})
	s.NoTrain = true
	rows, _, err := s.LayerSweep(nil)
	if err != nil || len(rows) != 2 || len(s.Missing) != 0 {
		t.Fatalf("figures from stored runs: %d rows, missing %v, %v", len(rows), s.Missing, err)
	}
	s = tinySetup(t, t.TempDir(), Shard{})
	s.NoTrain = true
	if _, _, err := s.RankSweep(nil); err == nil || len(s.Missing) != 2 {
		t.Errorf("figures with no stored runs: %v, missing %v", err, s.Missing)
	}
	t.Logf("%d runs identical; shard logs:\n%s\n%s", len(a), lastLine(out[1]), lastLine(out[2]))
}

func readRuns(t *testing.T, dir string) map[string]*experiment.Result {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	out := map[string]*experiment.Result{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var r experiment.Result
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = &r
	}
	return out
}

func keys(m map[string]*experiment.Result) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func lastLine(b []byte) string {
	for _, l := range splitLines(string(b)) {
		if len(l) > 0 && l[0] == ' ' {
			return l
		}
	}
	return fmt.Sprintf("%d bytes of output", len(b))
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := range len(s) {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

// TestParseShard: i/n with 0 <= i < n.
func TestParseShard(t *testing.T) {
	for in, ok := range map[string]bool{"0/2": true, "1/2": true, "2/2": false, "-1/2": false, "1/0": false, "x": false, "": true} {
		if _, err := ParseShard(in); (err == nil) != ok {
			t.Errorf("ParseShard(%q): %v", in, err)
		}
	}
}

// sameFloat is equality with NaN equal to NaN (an accuracy not measured).
func sameFloat(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }
