"""Job handlers of the inference app (training, segmentation, radiomics, prediction)."""
