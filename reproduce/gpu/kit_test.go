package gpu_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestScriptsParse runs bash -n on the kit's scripts.
func TestScriptsParse(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	for _, s := range []string{"package.sh", "run.sh"} {
		if out, err := exec.Command("bash", "-n", s).CombinedOutput(); err != nil {
			t.Errorf("bash -n %s: %v\n%s", s, err, out)
		}
	}
}

// TestBudgetsFitTheDeviceCall checks run.sh's step limits: every step has
// one, the steps other than the last (which only uses time the others left)
// sum to the overall budget, and the budget leaves room in the device's
// 10-minute command limit for start-up and publishing.
func TestBudgetsFitTheDeviceCall(t *testing.T) {
	src, err := os.ReadFile("run.sh")
	if err != nil {
		t.Fatal(err)
	}
	steps := regexp.MustCompile(`(?m)^STEPS=\(([^)]*)\)`).FindSubmatch(src)
	limits := regexp.MustCompile(`(?m)^declare -A LIMIT=\(([^)]*)\)`).FindSubmatch(src)
	total := regexp.MustCompile(`TOTAL=\$\{KIT_TOTAL:-(\d+)\}`).FindSubmatch(src)
	if steps == nil || limits == nil || total == nil {
		t.Fatal("run.sh: STEPS, LIMIT or TOTAL not found")
	}
	limit := map[string]int{}
	for _, m := range regexp.MustCompile(`\[(\w+)\]=(\d+)`).FindAllSubmatch(limits[1], -1) {
		n, _ := strconv.Atoi(string(m[2]))
		limit[string(m[1])] = n
	}
	names := strings.Fields(string(steps[1]))
	sum := 0
	for i, n := range names {
		l, ok := limit[n]
		if !ok {
			t.Errorf("step %s has no limit", n)
		}
		if i < len(names)-1 {
			sum += l
		}
		// every step listed in the header comment, with its limit
		if !regexp.MustCompile(`(?m)^#   ` + n + `\s+` + strconv.Itoa(l) + `\s`).Match(src) {
			t.Errorf("run.sh's header does not list step %s with its limit %d s", n, l)
		}
	}
	budget, _ := strconv.Atoi(string(total[1]))
	if sum != budget {
		t.Errorf("the steps before the last sum to %d s, the budget is %d s", sum, budget)
	}
	if budget > 8*60 {
		t.Errorf("budget %d s is over 8 minutes: the device's command limit is 10, machine start and transfers aside", budget)
	}
	if len(names) == 0 || names[0] != "unpack" || names[1] != "env" {
		t.Errorf("steps %v: unpack and env must come first", names)
	}
}

// TestSummaryOfAPartialRun feeds summary.py the leftovers of a run stopped
// in the middle of the bench (its rows only in the log, no bench.json) and
// checks that the summary and the table still carry them.
func TestSummaryOfAPartialRun(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	work, out := t.TempDir(), t.TempDir()
	write := func(rel, data string) {
		p := filepath.Join(work, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("steps/order.json", `["env", "parity", "bench", "tests"]`)
	write("steps/env.meta.json", `{"status": "ok", "rc": 0, "seconds": 3, "limit": 30, "note": ""}`)
	write("logs/env.log", "backend: xla:/x/xla_cuda_plugin.so (NVIDIA GPU and CUDA plugin found)\n"+
		"  StableHLO (xla:cuda), device 0: cuda:0 NVIDIA H200\n  created in 1.2s\n"+
		"  matmul 256x256 + gradient, first call (compile + run): 300ms\n"+
		"  matmul 256x256 + gradient, second call (run): 1ms\n  results checked: ok\n")
	write("steps/parity.meta.json", `{"status": "failed", "rc": 1, "seconds": 90, "limit": 150, "note": "exit 1"}`)
	write("parity.json", `{"backend": "xla", "cases": [{"dtype": "f32", "forward_first_seconds": 20, "forward_second_seconds": 0.5,
		"logits": {"max_abs": 0.002, "rel": 0.0004, "rel_l2": 0.0003}, "tokens_equal": true, "pass": false}]}`)
	write("steps/bench.meta.json", `{"status": "timeout", "rc": 124, "seconds": 200, "limit": 200, "note": "stopped"}`)
	write("logs/bench.log", "bench ReFT (LoReFT r4, all layers), batch 1: 12.5 examples/s (median step 0.08 s)\n"+
		"bench LoRA (r8, q/v): batch 1: out of memory\n")
	cmd := exec.Command(py, "summary.py", "collect", work, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("collect: %v\n%s", err, b)
	}
	var s map[string]any
	data, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	bench := s["bench"].(map[string]any)
	if bench["status"] != "timeout" {
		t.Errorf("bench status %v", bench["status"])
	}
	rows := bench["numbers"].(map[string]any)["visreft"].([]any)
	if len(rows) != 2 || rows[0].(map[string]any)["examples_per_sec"] != 12.5 {
		t.Errorf("bench rows from the log: %v", rows)
	}
	if st := s["tests"].(map[string]any)["status"]; st != "not run" {
		t.Errorf("tests: %v", st)
	}
	b, err := exec.Command(py, "summary.py", "table", work, out).CombinedOutput()
	if err != nil {
		t.Fatalf("table: %v\n%s", err, b)
	}
	for _, want := range []string{"cuda:0 NVIDIA H200", "f32: logits max abs 0.002", "FAIL", "timeout", "bench reft", "12.5"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("table lacks %q:\n%s", want, b)
		}
	}
}
