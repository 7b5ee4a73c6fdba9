// Package plot draws visreft's figures in the paper's form (Figure 4 rank
// sweep, Figure 5 layer sweep, Tables 4 and 5 as charts, training curves)
// in one house style, as SVG for notebooks and plots/ and as PNG for
// reports. Every figure made from synthetic data or random weights must
// say so: set Options.Synthetic and the title carries the label.
//
//	var points []plot.SweepPoint
//	for i, rank := range ranks { // results[i]: LoReFT trained at that rank
//		r := results[i]
//		points = append(points, plot.SweepPoint{X: float64(rank), Train: r.TrainAccuracy, Val: r.ValAccuracy})
//	}
//	fig, err := plot.RankSweep(points, plot.Options{Subtitle: "LoReFT, all layers", Synthetic: true})
//	if err != nil {
//		return err
//	}
//	err = fig.Save("plots/rank_sweep.svg") // or .png
package plot
