// Package eval scores vision-language models on CV-Bench-style multiple
// choice: by generating and parsing the chosen letter, or by the likelihood of
// each choice; accuracy overall, per task, per 2D/3D, the official CV-Bench
// score, letter confusion, and results as JSON and CSV. visreft scores every
// method it compares (the base model, ReFT, LoRA, full fine-tuning, steering
// vectors) through it.
//
//	opt := eval.Options{Mode: eval.Generate, Steer: steer} // steer nil: the base model
//	res, err := eval.Evaluate(b, model, val, opt)
//	if err != nil {
//		return err
//	}
//	fmt.Println(res.Scores) // the CV-Bench score, 2D and 3D
//	err = res.WriteJSON("eval.json")
package eval
