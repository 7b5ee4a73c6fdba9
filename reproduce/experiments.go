package main

// The paper's experiments. Each one's plan says what it computes and writes;
// run is filled in as the SDK parts it needs land.
func init() {
	register(&command{name: "params", summary: "Table 4: trainable share of parameters, ReFT vs LoRA vs full", run: runParams,
		plan: "count parameters of nanoLLaVA from its config (no weights needed) for LoReFT r4 on 24 layers, " +
			"LoRA r8 on attention, full LLM+projector; compare with the paper's 0.019 / 0.17 / 60.99 %"})
	register(&command{name: "methods", summary: "Table 5: validation accuracy of ReFT, LoRA and full fine-tuning", run: runMethods,
		plan: "train each method 1 epoch (lr 1e-3, batch 1, AdamW) on the train split (80 % of CV-Bench on the paper preset, 600 of 1,000 synthetic rows on the demo preset) and report validation accuracy beside the base model and the steering vectors"})
	register(&command{name: "steering", summary: "steering vectors beside Table 5: no training, chosen on the training split", run: runSteering,
		plan: "read decoder block outputs at the answer with the right and a wrong answer appended over 3/4 of the training split; " +
			"build vectors by mean difference and first principal component; choose layer, builder and scale on the other 1/4 by likelihood; " +
			"report the choice on validation as Table 5 reports the methods; plot accuracy vs scale per layer"})
	register(&command{name: "rank", summary: "Figure 4: accuracy vs LoReFT rank 4..14", run: runRank,
		plan: "sweep LoReFT rank 4..14 on all layers; plot train and validation accuracy"})
	register(&command{name: "layers", summary: "Figure 5: accuracy vs lowest intervened layer", run: runLayers,
		plan: "rank 6, layers {k..23} for k = 23 down to 0; plot train and validation accuracy"})
	register(&command{name: "example", summary: "Figure 1: one question, base answer vs ReFT answer", run: runExample,
		plan: "answer one depth question with the base model and the ReFT model; render the image with both answers"})
	register(&command{name: "bench", summary: "training speed and memory of ReFT, LoRA and full fine-tuning", run: runBench,
		plan: "examples/s, peak memory and MFU per method on CV-Bench-shaped inputs (729 image + ~60 text tokens)"})
	register(&command{name: "select", summary: "where to intervene without a full sweep: site and rank selection against Figures 4 and 5", run: runSelect,
		plan: "rank the Figure 4 + Figure 5 configurations by successive halving and by one trained all-layer LoReFT truncated to each, " +
			"at 5, 10 and 20 % of the full sweep's training examples; compare each first choice's validation accuracy with the sweep's best"})
	register(&command{name: "figures", summary: "draw every table and figure from the runs stored so far; train nothing", run: runFigures,
		plan: "read results/<preset>/<model>/<data>/runs/*.json (from this process, earlier ones or the shards of -shard i/n) and draw params, methods, rank, layers and example, naming the runs still missing"})
	register(&command{name: "all", summary: "params, methods, steering, rank, layers and example in turn", run: runAll,
		plan: "run params, methods, steering, rank, layers and example; write results/ and plots/"})
}
