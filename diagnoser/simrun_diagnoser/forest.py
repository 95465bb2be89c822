"""A random forest kept as JSON: scikit-learn trains it, this module writes
its trees as plain arrays and walks them to predict, so a model file is
data (unlike a pickle, loading one runs no code)."""
import json

FORMAT = 'simrun-forest/1'


def export(clf, feature_names, meta):
    """A fitted RandomForestClassifier (or ExtraTreesClassifier) as a JSON
    document."""
    trees = []
    for est in clf.estimators_:
        t = est.tree_
        values = []
        for v in t.value[:, 0, :]:
            s = float(v.sum())
            values.append([round(float(x) / s, 6) if s else 0.0 for x in v])
        trees.append({'left': t.children_left.tolist(), 'right': t.children_right.tolist(),
                      'feature': t.feature.tolist(),
                      'threshold': [round(float(x), 9) for x in t.threshold],
                      'value': values})
    return {'format': FORMAT, 'classes': [str(c) for c in clf.classes_],
            'features': list(feature_names), 'trees': trees, 'meta': meta}


class Forest(object):
    def __init__(self, doc):
        if doc.get('format') != FORMAT:
            raise ValueError('not a %s model' % FORMAT)
        self.classes = doc['classes']
        self.features = doc['features']
        self.trees = doc['trees']
        self.meta = doc.get('meta', {})

    @classmethod
    def load(cls, path):
        with open(path) as fh:
            return cls(json.load(fh))

    def proba(self, x):
        """Class probabilities for feature vector 'x' (the mean of the
        trees' leaf distributions, as scikit-learn's predict_proba)."""
        acc = [0.0] * len(self.classes)
        for t in self.trees:
            node = 0
            left, right, feat, thr = t['left'], t['right'], t['feature'], t['threshold']
            while left[node] != -1:
                node = left[node] if x[feat[node]] <= thr[node] else right[node]
            for i, p in enumerate(t['value'][node]):
                acc[i] += p
        n = float(len(self.trees)) or 1.0
        return [a / n for a in acc]

    def predict(self, x):
        p = self.proba(x)
        best = max(range(len(p)), key=p.__getitem__)
        return self.classes[best], p[best]
