"""Human 2AFC preference studies (paper Tables 2, 5 and 8; App. B "AMT Experiments").

``build`` (:mod:`vidbench.study.build`) turns two run folders / ``samples:`` folders into a static site with a
manifest; ``serve`` (:mod:`vidbench.study.server`) serves it and stores POSTed results; ``analyze``
(:mod:`vidbench.study.analyze`) reads results and reports preference % with rater-clustered intervals. Input
resolution and the 3x3 grouping rule: :mod:`vidbench.study.sources`; file formats: :mod:`vidbench.study.schema`;
the page's script: :mod:`vidbench.study.site`.
"""
