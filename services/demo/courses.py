"""The demo district's math courses: Math 6, Math 7, Math 8 and Algebra 1.

Each objective is one specific, demonstrable skill (the seeds: "specific,
clear, demonstrable learning objectives"), written with how it is shown:

* `F`: fluency, nine of ten problems correct within a generous time limit
  (20 minutes for ten problems);
* `M`: longer multi-step problems, four of five correct, untimed ("it seems
  unnecessary to require them to solve ten problems");
* `P`: a short digital check, 80 % or more (the "power up" percentage);
* `R`: a task scored on a rubric (emerging, developing, proficient,
  exemplary), proficient or above.

and the calculation method that turns several pieces of evidence into one
status: `latest` unless named (`highest`, `n2d`: twice on different days,
`avg`: the average, `decay`: the decaying average).
"""

from __future__ import annotations

Unit = tuple[str, tuple[tuple[str, str, str], ...]]
Course = tuple[str, str, str, tuple[Unit, ...]]  # id, name, grade, units

_ = "latest"

# fmt: off

MATH_6: Course = ("m6", "Math 6", "6", (
    ("Ratios and rates", (
        ("Write and describe ratios", "F", _),
        ("Find equivalent ratios with tables", "F", _),
        ("Find unit rates", "F", "highest"),
        ("Solve unit rate and unit price problems", "M", _),
        ("Find a percent of a quantity", "F", _),
        ("Explain a ratio relationship with a double number line", "R", "n2d"),
    )),
    ("Fractions and decimals", (
        ("Divide fractions by fractions", "F", _),
        ("Solve word problems with division of fractions", "M", _),
        ("Add and subtract multi-digit decimals", "F", "highest"),
        ("Multiply and divide multi-digit decimals", "F", _),
        ("Find greatest common factors and least common multiples", "P", "avg"),
        ("Use the distributive property to factor a sum", "F", _),
    )),
    ("Rational numbers", (
        ("Use positive and negative numbers in context", "P", _),
        ("Place rational numbers on a number line", "F", _),
        ("Order and compare rational numbers", "F", "decay"),
        ("Find and interpret absolute value", "F", _),
        ("Plot points in all four quadrants", "F", "highest"),
        ("Find distances between points with a shared coordinate", "M", _),
    )),
    ("Expressions and equations", (
        ("Evaluate numerical expressions with exponents", "F", _),
        ("Write expressions with variables", "F", _),
        ("Identify equivalent expressions", "P", "avg"),
        ("Solve one-step equations", "F", _),
        ("Write and graph inequalities", "M", _),
        ("Represent a relationship between dependent and independent variables", "R", "decay"),
    )),
    ("Geometry and statistics", (
        ("Find the area of triangles and polygons", "M", _),
        ("Find the volume of prisms with fractional edges", "M", _),
        ("Find surface area with nets", "M", "n2d"),
        ("Recognize statistical questions", "P", _),
        ("Find the mean, median and interquartile range", "F", _),
        ("Describe the shape, center and spread of a data set", "R", "n2d"),
    )),
))

MATH_7: Course = ("m7", "Math 7", "7", (
    ("Proportional relationships", (
        ("Compute unit rates with fractions", "F", _),
        ("Decide whether two quantities are proportional", "F", _),
        ("Find the constant of proportionality", "F", "highest"),
        ("Write equations for proportional relationships", "F", _),
        ("Solve multistep percent problems", "M", _),
        ("Explain what a point on a proportional graph means", "R", "n2d"),
    )),
    ("Operations with rational numbers", (
        ("Add and subtract integers", "F", _),
        ("Multiply and divide integers", "F", _),
        ("Add and subtract rational numbers", "F", "decay"),
        ("Multiply and divide rational numbers", "F", _),
        ("Convert fractions to decimals with long division", "P", _),
        ("Solve problems with the four operations on rational numbers", "M", _),
    )),
    ("Expressions and equations", (
        ("Combine like terms and expand expressions", "F", _),
        ("Factor linear expressions", "F", _),
        ("Rewrite an expression to show how quantities are related", "R", "decay"),
        ("Solve two-step equations", "F", _),
        ("Solve word problems with two-step equations", "M", _),
        ("Solve and graph two-step inequalities", "M", _),
    )),
    ("Geometry", (
        ("Solve problems with scale drawings", "M", _),
        ("Draw triangles from given conditions", "R", "n2d"),
        ("Find the circumference and area of circles", "F", _),
        ("Use angle relationships to find unknown angles", "F", "highest"),
        ("Find the surface area of prisms", "M", _),
        ("Find the volume of prisms", "F", _),
    )),
    ("Statistics and probability", (
        ("Draw inferences from random samples", "R", "decay"),
        ("Compare two populations by center and variability", "M", _),
        ("Find the probability of a simple event", "P", "avg"),
        ("Compare experimental and theoretical probability", "P", _),
        ("Find probabilities of compound events", "M", _),
        ("Design and use a simulation", "R", "n2d"),
    )),
))

MATH_8: Course = ("m8", "Math 8", "8", (
    ("Numbers and exponents", (
        ("Convert repeating decimals to fractions", "F", _),
        ("Approximate irrational numbers", "F", _),
        ("Apply the properties of integer exponents", "F", "decay"),
        ("Evaluate square roots and cube roots", "F", "highest"),
        ("Read and write numbers in scientific notation", "F", _),
        ("Operate with numbers in scientific notation", "M", _),
    )),
    ("Linear equations", (
        ("Graph proportional relationships and interpret slope", "F", _),
        ("Explain slope with similar triangles", "R", "n2d"),
        ("Solve linear equations with variables on both sides", "F", _),
        ("Tell equations with one, no or infinitely many solutions apart", "P", _),
        ("Solve systems of two equations by graphing", "M", _),
        ("Solve systems of two equations algebraically", "M", _),
    )),
    ("Functions", (
        ("Identify functions from tables, graphs and mappings", "F", _),
        ("Compare functions represented in different ways", "M", _),
        ("Tell linear and nonlinear functions apart", "F", "highest"),
        ("Write a linear function from a description or two points", "F", _),
        ("Interpret rate of change and initial value", "R", "decay"),
        ("Sketch a graph from a qualitative description", "R", "n2d"),
    )),
    ("Transformations and angles", (
        ("Describe transformations with coordinates", "F", _),
        ("Show congruence through rigid transformations", "M", _),
        ("Show similarity through dilations", "M", _),
        ("Use angle facts about parallel lines and triangles", "F", _),
        ("Explain a proof of the Pythagorean theorem", "R", "n2d"),
        ("Apply the Pythagorean theorem", "F", _),
    )),
    ("Volume and bivariate data", (
        ("Find the distance between two points", "F", _),
        ("Find the volume of cylinders, cones and spheres", "M", _),
        ("Construct and interpret scatter plots", "P", "avg"),
        ("Fit a line to data and judge the fit", "R", "decay"),
        ("Solve problems with a linear model", "M", _),
        ("Interpret two-way tables", "P", _),
    )),
))

ALGEBRA_1: Course = ("alg1", "Algebra 1", "8", (
    ("Expressions and equations", (
        ("Evaluate expressions with the order of operations", "F", _),
        ("Combine like terms", "F", "highest"),
        ("Apply the distributive property", "F", _),
        ("Translate words into algebraic expressions", "P", _),
        ("Solve one-step linear equations", "F", _),
        ("Solve two-step linear equations", "F", _),
        ("Solve equations with variables on both sides", "M", _),
        ("Solve literal equations for a given variable", "M", "n2d"),
    )),
    ("Inequalities and functions", (
        ("Solve and graph one-variable inequalities", "F", _),
        ("Solve compound inequalities", "M", _),
        ("Solve absolute value equations", "M", _),
        ("Model a situation with an inequality", "R", "decay"),
        ("Identify functions from tables, graphs and mappings", "F", _),
        ("Use function notation", "F", "decay"),
        ("Find domain and range", "P", "avg"),
        ("Interpret key features of a graph", "R", "n2d"),
    )),
    ("Linear functions", (
        ("Find the slope from two points", "F", _),
        ("Write a line in slope-intercept form", "F", _),
        ("Write a line in point-slope form", "F", _),
        ("Graph a linear equation", "F", "highest"),
        ("Write parallel and perpendicular lines", "M", _),
        ("Fit a line to data and interpret it", "R", "decay"),
        ("Write and graph linear inequalities in two variables", "M", _),
        ("Interpret slope and intercept in context", "R", "n2d"),
    )),
    ("Systems and exponents", (
        ("Solve systems of equations by graphing", "M", _),
        ("Solve systems of equations by substitution", "M", _),
        ("Solve systems of equations by elimination", "M", _),
        ("Model a situation with a system of equations", "R", "n2d"),
        ("Solve systems of linear inequalities", "M", _),
        ("Apply the laws of exponents", "F", _),
        ("Simplify expressions with rational exponents", "P", _),
        ("Model exponential growth and decay", "R", "decay"),
    )),
    ("Polynomials and quadratics", (
        ("Add and subtract polynomials", "F", _),
        ("Multiply polynomials", "F", _),
        ("Factor out the greatest common factor", "F", "highest"),
        ("Factor trinomials", "M", _),
        ("Factor special products", "M", _),
        ("Solve quadratic equations by factoring", "M", _),
        ("Solve quadratic equations with the quadratic formula", "M", "n2d"),
        ("Graph quadratic functions and find the vertex", "R", "decay"),
    )),
))

# fmt: on

COURSES: tuple[Course, ...] = (MATH_6, MATH_7, MATH_8, ALGEBRA_1)
