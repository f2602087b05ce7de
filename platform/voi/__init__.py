"""The volume-of-interest core: the label contract, the voxel grid and the agreement metrics.

Plain Python (numpy, scipy); no Django, no app. Every part of the platform that reads a proximal-femur
VOI (the readers' agreement, the segmentation training's validation, Table 2, the dashboards, radiomics)
takes its label values, grid conventions and metrics from here, so they cannot drift apart.
"""
