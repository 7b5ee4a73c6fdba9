// Package cvbench loads, splits, prompts, scores and synthesises CV-Bench
// (HF nyu-visionx/CV-Bench), the spatial-reasoning benchmark the paper
// fine-tunes and evaluates nanoLLaVA on.
//
//	ds, err := cvbench.Open(ctx, cvbench.HubID, hub.DefaultOptions(), true) // or a local folder
//	if err != nil {
//		return err
//	}
//	train, val := ds.Split(cvbench.SplitOptions{Seed: 0}) // 80/20
//	r := val[0].Render(cvbench.PromptOptions{Format: cvbench.PromptChatML})
//	fmt.Println(r.Prompt, r.Target) // the model's input and the answer, e.g. "(A)"
//
//	correct := make([]bool, len(val)) // correct[i]: whether val[i] was answered right
//	s, err := cvbench.Score(val, correct)
//	fmt.Println(s) // the official CV-Bench score and its parts
//
// The real data set comes in two published forms, both read here:
//
//   - test_2d.parquet / test_3d.parquet with the image embedded as a
//     struct{bytes, path} column (LoadParquet);
//   - test_2d.jsonl / test_3d.jsonl with the images under img/ (LoadJSONL).
//
// LoadDir detects which form a folder holds. Every row is validated; the
// first bad row is reported with its file, row index and field, or, with
// SkipInvalid, bad rows are skipped and counted in LoadStats, never dropped
// silently. Images stay encoded until Example.Image is called.
//
// Split gives the paper's 80/20 train/validation split from a sha256 ordering
// that is stable across runs, machines and Go versions. Render builds the
// three prompt formats (CV-Bench's own, the paper's template, nanoLLaVA's
// ChatML) and Score computes the official CV-Bench score.
//
// Generate writes a procedurally drawn synthetic data set in exactly the
// CV-Bench schema and file layout, so every path above can be exercised
// without the hub; its rows carry source_dataset "visreft-synthetic".
package cvbench
