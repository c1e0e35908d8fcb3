package ai.lethe.model;

/** The per-batch losses the importance estimators differentiate (docs/algorithms.md, section 2). */
public enum Loss {
    /** Cross-entropy with the true labels, mean over the batch (SSD, per-sample, Mnemonic). */
    CROSS_ENTROPY,
    /** Mean over the batch of the squared L2 norm of the raw logits: needs no labels (LFSSD). */
    LOGIT_NORM
}
