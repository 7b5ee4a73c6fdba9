// Package lora adds LoRA adapters (Hu et al. 2021, as Hugging Face PEFT
// implements them) to the Linear layers of visreft's models: the LoRA baseline
// that ReFT is compared with.
//
//	base := llava.Params(model.Config) // every weight's name and shape, from the config
//	cfg := lora.Config{R: 8, Alpha: 16, TargetModules: []string{"q_proj", "v_proj"}}
//	params, err := lora.Apply(model.Ctx, base, cfg) // lora_A, lora_B by each target
//	if err != nil {
//		return err
//	}
//	// ... train with train.LoRA(), then
//	err = lora.Save(dir, model.Ctx, cfg, params, llava.HubID)
//
// An adapter on a Linear y = x·Wᵀ (W [out, in]) is two variables in the
// Linear's own scope, lora_A [r, in] and lora_B [out, r], and nn.Linear adds
// scale·(dropout(x)·Aᵀ)·Bᵀ with scale = alpha/r. Apply creates them with
// PEFT's initialisation (A kaiming-uniform with a = sqrt(5), that is
// U(-1/sqrt(in), 1/sqrt(in)); B zero) next to the modules a Config targets.
// Targets are chosen by PEFT's rules over Hugging Face module names: a list
// of suffixes ("q_proj" matches model.layers.N.self_attn.q_proj and the
// vision tower's ...encoder.layers.N.self_attn.q_proj alike), or one regex
// that must match the whole name, minus exclusions, optionally restricted to
// some layer indices (layers_to_transform).
//
// Counts come from a model's parameter list alone (Params, Count), so the
// paper's Table 4 needs no weights. Save and Load use PEFT's adapter
// directory format (adapter_config.json, adapter_model.safetensors with
// tensors "base_model.model.<module>.lora_A.weight"); Merge folds adapters
// into the base weights (PEFT's merge_and_unload).
//
// # The paper's 0.17 %
//
// The paper gives LoRA r = 8, alpha 16 on "all attention layers" and 0.17 %
// trainable parameters of nanoLLaVA's 1,019,548,192. Of the readings
// TestTable4Readings computes, exactly one prints as 0.17 %:
//
//	target_modules ["q_proj", "v_proj"], matched by suffix as PEFT does:
//	q and v of the 24 LLM layers (786,432) and of the 26 vision layers
//	(958,464) = 1,744,896 parameters, 0.1711 % of the base model and
//	0.1709 % of base + LoRA (PEFT's print_trainable_parameters).
//
// The others: LLM q,k,v,o alone 1,572,864 (0.154 %); with the projector
// 1,606,656 (0.158 %); suffixes q,k,v,o_proj (LLM q,k,v,o + vision q,k,v,
// since SigLIP names its output out_proj) 3,010,560 (0.295 %); both towers'
// q,k,v,o/out 3,489,792 (0.342 %); LLM q,v alone 786,432 (0.077 %); vision
// attention alone 1,916,928 (0.188 %); LLM attention + MLP 3,784,704
// (0.371 %); every Linear but lm_head 8,005,120 (0.785 %). So the paper's
// "all attention layers" is most likely q_proj and v_proj (PEFT's usual
// Qwen2 default) applied by suffix, which also adapts the vision tower.
package lora
