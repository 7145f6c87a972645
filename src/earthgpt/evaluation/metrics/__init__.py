"""Pure, tested metric functions for every task of the paper.

| module | metrics |
|---|---|
| ``classification`` | top-1 accuracy, per-class accuracy, confusion matrix |
| ``caption`` | BLEU-1..4, METEOR, ROUGE-L, CIDEr-D (coco-caption numbers; SPICE reported as missing) |
| ``vqa`` | overall accuracy (OA), average accuracy (AA), accuracy per question type |
| ``grounding`` | Pr@0.5..0.9, mIoU, cIoU |
| ``detection`` | AP@40 / AP@50 per class and mAP, HBB and OBB, VOC all-point or COCO 101-point |
| ``masks`` | gIoU, cIoU, Pr@0.5..0.9, mIoU of masks (arrays, COCO RLE, polygons) |
| ``referring`` | referring classification: accuracy, Osprey's SS and S-IoU |
"""

from earthgpt.evaluation.metrics.caption import CaptionScores, caption_scores
from earthgpt.evaluation.metrics.classification import ClassificationScores, classification_scores
from earthgpt.evaluation.metrics.coco_java import MeteorScorer
from earthgpt.evaluation.metrics.detection import ClassAP, DetectionScores, detection_ap, detection_scores
from earthgpt.evaluation.metrics.grounding import GroundingScores, grounding_scores
from earthgpt.evaluation.metrics.masks import MaskScores, mask_iou, mask_scores
from earthgpt.evaluation.metrics.referring import ReferringScores, load_sentence_encoder, referring_scores
from earthgpt.evaluation.metrics.vqa import VQAScores, vqa_scores

__all__ = [
    "CaptionScores",
    "ClassAP",
    "ClassificationScores",
    "DetectionScores",
    "GroundingScores",
    "MaskScores",
    "MeteorScorer",
    "ReferringScores",
    "VQAScores",
    "caption_scores",
    "classification_scores",
    "detection_ap",
    "detection_scores",
    "grounding_scores",
    "load_sentence_encoder",
    "mask_iou",
    "mask_scores",
    "referring_scores",
    "vqa_scores",
]
