package ai.lethe.method;

import java.util.List;

/**
 * What SSD's search of alpha ({@code alpha = auto}) did: the α chosen, the target forget accuracy and where it
 * came from, the held-out samples, and every α tried (the report's {@code details.alpha_search}).
 */
public record AlphaSearch(float chosenAlpha, double targetForgetAcc, String targetSource, double retainAccBefore,
                          double maxRetainDrop, int holdoutForgetSamples, int holdoutRetainSamples, List<Point> curve) {

    /** One α tried: how many parameters it selected and the held-out accuracies after dampening with it. */
    public record Point(float alpha, long selected, double forgetAcc, double retainAcc) implements HeldOutSearch.Probed {
        @Override
        public double value() {
            return alpha;
        }
    }
}
