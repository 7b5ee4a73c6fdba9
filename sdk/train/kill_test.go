package train

import (
	"bufio"
	stdctx "context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The child side of TestKilledRunResumesBitForBit: with these variables set,
// the test trains one strategy with a checkpoint after every step, resuming
// from the folder's checkpoint when there is one, prints "step N" after each
// step and writes the trained weights to final.safetensors at the end.
const (
	killDirEnv      = "VISREFT_KILLTEST_DIR"
	killStrategyEnv = "VISREFT_KILLTEST_STRATEGY"
)

// killSteps is the child's run: 4 epochs of 6 examples in batches of 2.
const killSteps = 12

// TestKilledRunResumesBitForBit: a training process killed with SIGKILL at
// a step chosen at random after its first checkpoint, then started again
// with the same command, ends with exactly the weights of a run never
// interrupted, in f32 on the CPU, for ReFT, LoRA (with dropout, so the RNG
// state matters) and full fine-tuning.
func TestKilledRunResumesBitForBit(t *testing.T) {
	if dir := os.Getenv(killDirEnv); dir != "" {
		killChild(t, dir, os.Getenv(killStrategyEnv))
		return
	}
	if testing.Short() {
		t.Skip("starts 9 child processes")
	}
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for _, s := range strategies {
		t.Run(s.name, func(t *testing.T) {
			whole := t.TempDir()
			if _, err := runChild(t, whole, s.name, -1); err != nil {
				t.Fatal(err)
			}
			killed := t.TempDir()
			at := 2 + r.IntN(killSteps-3) // after the first checkpoint (step 1), before the end
			last, err := runChild(t, killed, s.name, at)
			if err == nil {
				t.Fatalf("the child was not killed: it ran to step %d", last)
			}
			t.Logf("killed at step %d (asked for %d): %v", last, at, err)
			if _, err := os.Stat(filepath.Join(killed, "final.safetensors")); err == nil {
				t.Fatal("the killed child finished anyway")
			}
			if _, err := runChild(t, killed, s.name, -1); err != nil {
				t.Fatalf("the same command after the kill: %v", err)
			}
			sameTensors(t, filepath.Join(whole, "final.safetensors"), filepath.Join(killed, "final.safetensors"))
		})
	}
}

// runChild runs this test binary as the child for strategy in dir; with
// killAt > 0 it sends SIGKILL once the child reports step killAt. It
// returns the last step the child reported.
func runChild(t *testing.T, dir, strategy string, killAt int) (int, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledRunResumesBitForBit$", "-test.count=1")
	cmd.Env = append(os.Environ(), killDirEnv+"="+dir, killStrategyEnv+"="+strategy)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	last := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if n, ok := strings.CutPrefix(sc.Text(), "step "); ok {
			last, _ = strconv.Atoi(n)
			if killAt > 0 && last >= killAt {
				_ = cmd.Process.Signal(syscall.SIGKILL)
				break
			}
		}
	}
	_, _ = io.Copy(io.Discard, out) // let the child finish writing
	err = cmd.Wait()
	if err != nil && killAt <= 0 {
		return last, fmt.Errorf("child %s: %w\n%s", strategy, err, stderr.String())
	}
	return last, err
}

// killChild is the child process's run.
func killChild(t *testing.T, dir, name string) {
	var s setup
	for _, c := range strategies {
		if c.name == name {
			s = c
		}
	}
	if s.name == "" {
		t.Fatalf("%s=%q names no strategy", killStrategyEnv, name)
	}
	cfg := quiet()
	cfg.Epochs, cfg.BatchSize = 4, 2
	cfg.CheckpointDir, cfg.CheckpointEvery = filepath.Join(dir, "ckpt"), 1
	cfg.OnStep = func(si StepInfo) {
		fmt.Printf("step %d\n", si.Step)
		time.Sleep(20 * time.Millisecond) // time for the parent's kill to land mid-run
	}
	tr, _ := newTiny(t, s, tinyData(6, 8, 2), cfg)
	if _, err := os.Stat(filepath.Join(cfg.CheckpointDir, StateFile)); err == nil {
		if err := tr.Resume(cfg.CheckpointDir); err != nil {
			t.Fatal(err)
		}
	}
	res, err := tr.Run(stdctx.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != killSteps {
		t.Fatalf("the run ended at step %d, want %d", res.Steps, killSteps)
	}
	if err := tr.SaveTrainable(filepath.Join(dir, "final.safetensors")); err != nil {
		t.Fatal(err)
	}
}
