// Package train is visreft's one trainer for its three strategies: ReFT
// (only intervention variables train), LoRA (only lora_A/lora_B) and full
// fine-tuning (chosen scopes, e.g. the LLM and projector of nanoLLaVA with
// the vision tower frozen).
//
//	cfg := train.DefaultConfig()
//	cfg.LR, cfg.Epochs, cfg.BatchSize = 1e-3, 1, 8
//	tr, err := train.New(b, scope, loss, train.ReFT(), data, cfg) // only "reft." variables train
//	if err != nil {
//		return err
//	}
//	res, err := tr.Run(ctx)
//	if err != nil {
//		return err
//	}
//	fmt.Println(res.Steps, "steps, last loss", res.Loss)
//
// A model is a LossFn, a graph builder returning the scalar loss of a
// batch over a GoMLX context whose scope paths are Hugging Face names; a
// Strategy marks which variables train, by name. Data comes from a Source
// with random access (Tokens for tokenised prompt/answer pairs), drawn in a
// seeded order, padded to a small set of bucket lengths so that at most one
// graph per bucket is compiled (Result.Shapes, Result.Compiles).
//
// # Optimizer
//
// Gradients come from graph.Gradient directly, not GoMLX's optimizers
// (v0.26.0 has neither master weights nor per-variable decay). The update
// is torch.optim.AdamW's, in float32, with global-norm clipping
// (clip_grad_norm_) and decoupled weight decay applied only to the variables
// it should touch: not biases, not normalisation weights (DefaultNoDecay,
// Hugging Face Trainer's rule) and not Config.NoDecay. The learning rate
// follows transformers' constant or linear schedules with warmup. The step
// scalars are graph inputs, so the schedule never recompiles. A step is one
// executable (loss, gradients, clipping, AdamW); with gradient accumulation
// (or recomputation) micro-batches add their gradients to float32
// accumulators and a second executable applies the mean.
//
// # Mixed precision
//
// The compute dtype is the activations' dtype, an explicit setting of a
// run (experiment.Options.ComputeDType; the paper preset defaults to the
// checkpoint's bf16 on a GPU and float32 on the pure-Go backend, whose
// bf16 truncates): pixels or cached features are converted to it on entry,
// and nn's blocks convert every weight to the dtype of the activations
// they meet, so every frozen matmul runs in it. ReFT's interventions
// compute in float32 whatever it is, as pyreft's rotation does.
//
// With MasterFloat32 (the default), a trained bf16 variable is replaced by
// its float32 copy, the master weight, while nn's blocks convert every
// weight to the dtype of the activations they meet: a bf16 model computes
// in bf16, gradients arrive in float32 through the conversion, and AdamW's
// updates accumulate in float32 (torch autocast's arrangement; the bf16
// copy exists only inside the graph, so memory is 4 bytes per trained
// parameter, not 6). SaveTrainable rounds masters back to bf16 (to nearest
// even: GoMLX v0.26.0's bfloat16.FromFloat32, used by the pure-Go backend's
// f32->bf16 conversion, truncates). Frozen weights stay bf16.
//
// # Checkpoints, resume, failures
//
// Every CheckpointEvery steps, weights-<step>.safetensors (trained
// variables, AdamW's moments) is written atomically, then
// trainer_state.json (step, data position, RNG state, config, losses),
// also atomically, commits it; older weights files go only after that. A
// Trainer that Resumes from it continues bit for bit as an uninterrupted
// run would (same data order, same dropout masks, same moments). Run
// stops on cancellation of its context between micro-batches, and on a NaN
// or Inf loss or gradient norm with a NonFiniteError: the failed step's
// update is masked out inside the graph, so the weights stay those of the
// previous step and no checkpoint is overwritten.
//
// # Gradient checkpointing
//
// GoMLX v0.26.0 has no rematerialisation. NewStaged with Config.Recompute
// trains a model split into Stages (embed, blocks, head) as separate
// executables: a forward pass that keeps only the hidden state between
// blocks, then per block from the last a backward executable that
// recomputes the block from its saved input and back-propagates through it
// (see recompute). sdk/experiment splits nanoLLaVA this way (embeddings
// with the vision tower and projector, one stage per decoder block, the
// norm and answer loss as the head), and the paper's full fine-tuning
// (experiment.PaperFull, Table 3) trains with it: the same gradients as
// the whole graph (TestPaperFullRecomputeSameGradients), with only one
// block's activations alive at a time (BenchmarkRecomputeMemory).
//
// # Identity
//
// Config.Identity (base model, data, method) is written into every
// checkpoint; Resume refuses a checkpoint made for another identity and
// names the key that differs.
package train
